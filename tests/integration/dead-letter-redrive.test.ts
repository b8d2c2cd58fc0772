import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readDeadLetters, redriveOne, type DeadLetterDeps } from '../../src/ops/dead-letters.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
let deps: DeadLetterDeps;
before(async () => {
  h = await startHarness({
    configOverrides: (config) => {
      config['llm'] = { ...config['llm'], maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 20 };
    },
  });
  deps = {
    sqs: h.runtime.aws.sqs,
    urls: h.runtime.deadLetterUrls,
    checkpoints: h.runtime.checkpoints,
    queueFor: (p) => h.runtime.queueFor(p),
    actor: 'operator:test',
  };
});
after(async () => {
  await h.stop();
});

describe('dead letters', () => {
  it('a job whose transient failures exhaust the cap is dead-lettered with its reason', async () => {
    h.stack.llm.setFaults({ forceStatus: 503 });
    try {
      const { body } = await h.post(seedRequest(h));
      const job = await h.waitFor(body.id);
      assert.equal(job.state, 'dead_lettered');
      assert.equal(job.attempts, 2);
      assert.equal(job.error?.code, 'llm_unavailable');
    } finally {
      h.stack.llm.setFaults({ forceStatus: null });
    }
  });

  it('a permanent failure is not retried: it fails at once into the permanent queue', async () => {
    h.stack.llm.setFaults({ forceStatus: 400 });
    const calls = h.stack.llm.stats().calls;
    try {
      const { body } = await h.post(seedRequest(h));
      const job = await h.waitFor(body.id);
      assert.equal(job.state, 'failed');
      assert.equal(job.attempts, 1);
      assert.equal(h.stack.llm.stats().calls - calls, 1);
    } finally {
      h.stack.llm.setFaults({ forceStatus: null });
    }
    const letters = await readDeadLetters(deps, 'permanent', 10);
    assert.ok(letters.some((letter) => letter.reason.code === 'llm_rejected'));
  });

  it('redrive by two operators at once sends each job round exactly once', async () => {
    const letters = await readDeadLetters(deps, 'transient', 10, 30);
    assert.ok(letters.length >= 1);
    const completions = h.stack.llm.stats().completed;
    const writebacks = h.stack.records.stats().writebacks;
    const outcomes = await Promise.all(letters.flatMap((letter) => [redriveOne(deps, 'transient', letter), redriveOne(deps, 'transient', letter)]));
    assert.equal(outcomes.filter((o) => o === 'redriven').length, letters.length);
    for (const letter of letters) {
      const job = await h.waitFor(letter.message!.job_id);
      assert.equal(job.state, 'succeeded');
      assert.equal(job.audit.filter((line) => line.event === 'redrive').length, 1);
    }
    assert.equal(h.stack.llm.stats().completed - completions, letters.length);
    assert.equal(h.stack.records.stats().writebacks - writebacks, letters.length);
    assert.equal(h.stack.records.stats().duplicateWritebacks, 0);
    assert.equal((await readDeadLetters(deps, 'transient', 10)).length, 0);
  });
});
