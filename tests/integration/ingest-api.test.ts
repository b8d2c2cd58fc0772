import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { jobKey } from '../../src/jobs/job-key.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ supervise: false });
});
after(async () => {
  await h.stop();
});

async function objectCount(): Promise<number> {
  const out = await h.runtime.aws.s3.send(new ListObjectsV2Command({ Bucket: h.stack.config.bucket }));
  return out.KeyCount ?? 0;
}

describe('ingest HTTP API', () => {
  it('accepts a request with 202, id and status, and serves its status', async () => {
    const request = seedRequest(h);
    const { status, body } = await h.post(request);
    assert.equal(status, 202);
    assert.deepEqual(body, { id: jobKey(request), status: 'queued', duplicate: false });
    const view = await h.get(`/v1/jobs/${body.id}`);
    assert.equal(view.status, 200);
    assert.equal(view.body.status, 'queued');
    assert.equal(view.body.attempts, 0);
    assert.equal(view.body.record_id, request.record_id);
    assert.ok(Date.parse(view.body.created_at));
  });

  it('answers the same key with a different payload with 409 job_key_conflict', async () => {
    const request = seedRequest(h, { context: 'first context' });
    assert.equal((await h.post(request)).status, 202);
    const { status, body } = await h.post({ ...request, context: 'a different context' });
    assert.equal(status, 409);
    assert.equal(body.code, 'job_key_conflict');
    assert.ok(body.trace_id);
  });

  it('refuses malformed and oversized input with the error envelope and writes nothing', async () => {
    const objects = await objectCount();
    const cases: Array<[unknown, number, string]> = [
      ['{not json', 400, 'invalid_json'],
      [{ base_id: 'app' }, 400, 'invalid_request'],
      [{ ...seedRequest(h), prompt_version: 'no-such-template' }, 400, 'unknown_prompt_version'],
      [{ ...seedRequest(h), context: 'x'.repeat(64 * 1024 + 1) }, 413, 'payload_too_large'],
      [{ ...seedRequest(h), context: 'y'.repeat(200 * 1024) }, 413, 'payload_too_large'],
    ];
    for (const [body, status, code] of cases) {
      const response = await h.post(body);
      assert.equal(response.status, status, `${code}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.code, code);
      assert.equal(typeof response.body.message, 'string');
      assert.equal(typeof response.body.trace_id, 'string');
    }
    assert.equal(await objectCount(), objects, 'no payload stored for refused requests');
    for (let p = 0; p < 2; p += 1) {
      const url = h.stack.infra.queues.partitions[p] as string;
      const out = await h.runtime.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      for (const message of out.Messages ?? []) assert.ok(!String(message.Body).includes('no-such-template'));
    }
  });

  it('returns 404 with the envelope for an unknown job and 415 without a JSON content type', async () => {
    const missing = await h.get(`/v1/jobs/${'0'.repeat(64)}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'not_found');
    const response = await h.send('POST', '/v1/jobs', { body: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(response.status, 415);
    assert.equal(response.body.code, 'unsupported_media_type');
  });

  it('cancels a queued job and says when it is too late', async () => {
    const { body } = await h.post(seedRequest(h));
    const cancelled = await h.send('DELETE', `/v1/jobs/${body.id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const job = await h.runtime.checkpoints.get(body.id);
    assert.equal(job?.state, 'cancelled');
    const { body: started } = await h.post(seedRequest(h));
    await h.runtime.checkpoints.transition(started.id, { event: 'start', from: 'queued', writer: { actor: 'owner', token: 1 } });
    const late = await h.send('DELETE', `/v1/jobs/${started.id}`);
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'too_late_to_cancel');
    assert.match(late.body.message, /running/);
  });
});
