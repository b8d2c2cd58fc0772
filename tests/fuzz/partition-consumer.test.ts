import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.ts';
import { fuzzRuns, fuzzSeed, summarize } from './fuzz-support.ts';
import { runSqsFuzz } from './sqs-fuzz.ts';

/**
 * Property-based fuzzing of the real partition consumer: `WARDEN_FUZZ_RUNS` poison messages
 * (default 1,000) sent to the partition queues a real supervisor consumes.
 */
let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.stop();
});

describe('partition consumer under poison messages (fast-check)', () => {
  it('dead-letters every one with a reason code, calls no LLM, writes no job, crashes nothing', { timeout: 60_000 }, async () => {
    const result = await runSqsFuzz(h, { runs: fuzzRuns(), seed: fuzzSeed(), timeoutMs: 30_000 });
    const { failures, crashErrors, ...numbers } = result;
    console.log(JSON.stringify({ sqs_fuzz: { ...numbers, jobsWritten: numbers.jobsWritten.length } }));
    assert.ok(result.sent >= Math.min(1_000, fuzzRuns()), `only ${result.sent} messages sent`);
    assert.deepEqual(crashErrors, [], 'the process saw unhandled rejections or uncaught exceptions');
    assert.equal(result.crashes, 0, 'a partition actor was restarted');
    assert.equal(result.llmCalls, 0, 'the LLM was called for a poison message');
    assert.deepEqual(failures, [], summarize(failures));
    assert.equal(result.poisonToDlq, result.sent);
    assert.deepEqual(result.jobsWritten, [], 'a job was created from a malformed message');
  });
});
