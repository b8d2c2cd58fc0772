import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.stop();
});

describe('payload access log on a real run', () => {
  it('records every payload read of a job: the prompt rendering and the write-back, by whom, for which tenant', async () => {
    const request = seedRequest(h, { context: 'some private context' });
    const { body } = await h.post(request);
    const job = await h.waitFor(body.id);
    assert.equal(job.state, 'succeeded');
    const entries = await h.runtime.accessLog.listForJob(job.id);
    assert.deepEqual(entries.map((e) => e.purpose).sort(), ['render_prompt', 'write_back']);
    for (const entry of entries) {
      assert.equal(entry.who, 'worker:test-supervisor');
      assert.equal(entry.tenant, request.base_id);
      assert.equal(entry.jobId, job.id);
      assert.ok(Date.parse(entry.at) >= Date.parse(job.created_at));
    }
  });
});
