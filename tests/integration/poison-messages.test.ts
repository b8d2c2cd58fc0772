import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.stop();
});

async function drainPermanentDlq(expected: number, timeoutMs = 10_000) {
  const found: Array<{ body: string; code: string | undefined }> = [];
  const deadline = Date.now() + timeoutMs;
  while (found.length < expected && Date.now() < deadline) {
    const out = await h.runtime.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: h.stack.infra.queues.dlqPermanent, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    for (const m of out.Messages ?? []) found.push({ body: m.Body ?? '', code: m.MessageAttributes?.['reason_code']?.StringValue });
  }
  return found;
}

describe('poison messages', () => {
  it('end in the permanent dead-letter queue with their reason, and nothing else changes', async () => {
    const queue = h.runtime.queueFor(0);
    const calls = h.stack.llm.stats().calls;
    await queue.send('this is not json');
    await queue.send(JSON.stringify({ v: 1, job_id: 'f'.repeat(64), trace_id: 'x' }));
    await queue.send(JSON.stringify({ v: 2, job_id: 'nope' }));
    const found = await drainPermanentDlq(3);
    assert.deepEqual(found.map((f) => f.code).sort(), ['poison_message', 'poison_message', 'unknown_job']);
    assert.equal(h.stack.llm.stats().calls, calls);
  });

  it('a producer message whose request does not match its job id is refused as poison', async () => {
    const request = seedRequest(h);
    await h.runtime.queueFor(1).send(
      JSON.stringify({ v: 1, job_id: 'a'.repeat(64), trace_id: 't', submit: { request, submitted_at: new Date().toISOString() } }),
    );
    const found = await drainPermanentDlq(1);
    assert.equal(found[0]?.code, 'poison_message');
    assert.equal(await h.runtime.checkpoints.get('a'.repeat(64)), undefined);
  });
});
