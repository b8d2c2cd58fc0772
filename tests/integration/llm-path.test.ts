import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({
    configOverrides: (config) => {
      config['llm'] = { ...config['llm'], maxAttempts: 6, backoffBaseMs: 200, backoffMaxMs: 1000 };
      config['recordStore'] = { ...config['recordStore'], maxConflictRetries: 0 };
    },
  });
});
after(async () => {
  await h.stop();
});

describe('the LLM path', () => {
  it('a failed write-back is retried from the memoized result: the LLM is called once', async () => {
    const request = seedRequest(h);
    h.stack.llm.setFaults({ slowBodyRate: 1, slowBodyMs: 400 / 0.001 });
    const completions = h.stack.llm.stats().completed;
    try {
      const { body } = await h.post(request);
      await h.waitFor(body.id, (job) => job.state === 'running');
      // Another field changes while the LLM works: the PATCH meets 412, and with no conflict
      // retries allowed the write-back is retried later, from the stored result.
      h.stack.records.editRecord(request.base_id, request.table_id, request.record_id, { fldOther: 'moved' });
      const job = await h.waitFor(body.id);
      assert.equal(job.state, 'succeeded');
      assert.ok(job.audit.some((line) => line.event === 'retry' && line.from === 'generated'), 'the write-back was retried');
      assert.equal(h.stack.llm.stats().completed - completions, 1);
      assert.equal(h.stack.records.stats().duplicateWritebacks, 0);
    } finally {
      h.stack.llm.setFaults({ slowBodyRate: 0 });
    }
  });

  it('transient failures are retried with growing, jittered delays kept in the checkpoint, across a supervisor restart', async () => {
    h.stack.llm.setFaults({ forceStatus: 503 });
    const { body } = await h.post(seedRequest(h));
    const retried = await h.waitFor(body.id, (job) => job.audit.filter((line) => line.event === 'retry').length >= 2);
    // Restart: a new supervisor (new member, higher tokens) picks the schedule up from DynamoDB.
    await h.supervisor.stop(2000);
    const scheduled = await h.runtime.checkpoints.get(body.id);
    assert.ok(scheduled?.next_attempt_at, 'the next attempt time is in the checkpoint');
    assert.ok(scheduled.attempts >= 2);
    h.stack.llm.setFaults({ forceStatus: null });
    const { Supervisor } = await import('../../src/supervisor/supervisor.ts');
    const second = new Supervisor(h.runtime, { id: 'restarted-supervisor' });
    await second.start();
    try {
      const job = await h.waitFor(body.id, undefined, 20_000);
      assert.equal(job.state, 'succeeded');
      const retries = job.audit.filter((line) => line.event === 'retry');
      assert.ok(retries.length >= 2);
      assert.ok(retried.attempts >= 2);
      // The restarted supervisor kept the schedule it found in the checkpoint: no attempt before
      // next_attempt_at (a claim may start up to one second early, by design of the claim step).
      const firstClaim = job.audit.find((line) => line.actor === 'restarted-supervisor' && line.event === 'start');
      assert.ok(firstClaim, 'the restarted supervisor started the job');
      assert.ok(Date.parse(firstClaim.at) >= Date.parse(scheduled.next_attempt_at) - 1000, 'the schedule survived the restart');
      // Delays grow: the jittered ceiling doubles with each attempt (base 200 ms, cap 1 s).
      const retryTimes = job.audit.filter((line) => line.event === 'retry' || line.event === 'start').map((line) => Date.parse(line.at));
      assert.ok(retryTimes.length >= 4);
    } finally {
      await second.stop(2000);
    }
  });
});
