import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { openResult } from '../../src/runtime/crypto/job-sealing.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.stop();
});

function llmCallsFor(fieldValue: unknown): number {
  assert.equal(typeof fieldValue, 'string');
  return (fieldValue as string).length;
}

describe('exactly-once on the real local services', () => {
  it('50 concurrent submissions of one request make 1 job, 1 LLM call and 1 write-back', async () => {
    const request = seedRequest(h);
    const llmBefore = h.stack.llm.stats();
    const storeBefore = h.stack.records.stats();
    const responses = await Promise.all(Array.from({ length: 50 }, () => h.post(request)));
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([202]));
    const ids = new Set(responses.map((r) => r.body.id));
    assert.equal(ids.size, 1);
    assert.equal(responses.filter((r) => r.body.duplicate === false).length, 1);
    const id = [...ids][0] as string;
    const job = await h.waitFor(id);
    assert.equal(job.state, 'succeeded');
    assert.equal(h.stack.llm.stats().calls - llmBefore.calls, 1);
    assert.equal(h.stack.records.stats().writebacks - storeBefore.writebacks, 1);
    const record = h.stack.records.getRecord(request.base_id, request.table_id, request.record_id);
    assert.equal(record?.fields['fldSummary'], await openResult(h.runtime.cipher, job));
    assert.ok(llmCallsFor(record?.fields['fldSummary']) > 0);
  });

  it('a record whose inputs changed during generation ends superseded and nothing is written', async () => {
    const request = seedRequest(h);
    h.stack.llm.setFaults({ slowBodyRate: 1, slowBodyMs: 600 / 0.001 });
    try {
      const { body } = await h.post(request);
      await h.waitFor(body.id, (job) => job.state === 'running');
      h.stack.records.editRecord(request.base_id, request.table_id, request.record_id, { fldNotes: 'rewritten by a user' });
      const job = await h.waitFor(body.id);
      assert.equal(job.state, 'superseded');
      const record = h.stack.records.getRecord(request.base_id, request.table_id, request.record_id);
      assert.equal(record?.fields['fldSummary'], undefined);
    } finally {
      h.stack.llm.setFaults({ slowBodyRate: 0 });
    }
  });

  it('a record changed only in other fields is written against its new version', async () => {
    const request = seedRequest(h);
    h.stack.llm.setFaults({ slowBodyRate: 1, slowBodyMs: 600 / 0.001 });
    try {
      const conflictsBefore = h.stack.records.stats().conflicts412;
      const { body } = await h.post(request);
      await h.waitFor(body.id, (job) => job.state === 'running');
      const edited = h.stack.records.editRecord(request.base_id, request.table_id, request.record_id, { fldOther: 'changed meanwhile' });
      const job = await h.waitFor(body.id);
      assert.equal(job.state, 'succeeded');
      assert.ok(h.stack.records.stats().conflicts412 > conflictsBefore, 'the first PATCH met the moved version');
      const record = h.stack.records.getRecord(request.base_id, request.table_id, request.record_id);
      assert.equal(record?.fields['fldSummary'], await openResult(h.runtime.cipher, job));
      assert.equal(record?.fields['fldOther'], 'changed meanwhile');
      assert.ok(Number(job.written_version) > Number(edited?.version), 'written on top of the edited version');
      assert.equal(h.stack.records.stats().staleWritebacks, 0);
    } finally {
      h.stack.llm.setFaults({ slowBodyRate: 0 });
    }
  });

  it('a redelivered message for a finished job is deleted and repeats nothing', async () => {
    const request = seedRequest(h);
    const { body } = await h.post(request);
    const job = await h.waitFor(body.id);
    const calls = h.stack.llm.stats().calls;
    const writes = h.stack.records.stats().patches;
    const queue = h.runtime.queueFor(job.partition);
    await queue.send(JSON.stringify({ v: 1, job_id: job.id, trace_id: 'redelivery' }));
    const url = h.stack.infra.queues.partitions[job.partition] as string;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const attrs = await h.runtime.aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      const left = Number(attrs.Attributes?.ApproximateNumberOfMessages) + Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible);
      if (left === 0) break;
      assert.ok(Date.now() < deadline, 'the redelivered message was never deleted');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(h.stack.llm.stats().calls, calls);
    assert.equal(h.stack.records.stats().patches, writes);
    assert.equal((await h.runtime.checkpoints.get(job.id))?.seq, job.seq);
  });

  it('the producer library and the API deduplicate alike', async () => {
    const request = seedRequest(h, { context: 'extra context for the prompt' });
    const calls = h.stack.llm.stats().calls;
    const [viaProducer, viaProducerAgain] = await Promise.all([h.producer.submit(request), h.producer.submit(request)]);
    const viaApi = await h.post(request);
    assert.equal(viaProducer.job_id, viaProducerAgain.job_id);
    assert.equal(viaApi.body.id, viaProducer.job_id);
    const job = await h.waitFor(viaProducer.job_id);
    assert.equal(job.state, 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(h.stack.llm.stats().calls - calls, 1);
  });
});
