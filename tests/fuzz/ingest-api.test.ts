import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from '../support/harness.ts';
import { fuzzRuns, fuzzSeed, summarize } from './fuzz-support.ts';
import { runHttpFuzz } from './http-fuzz.ts';

/**
 * Property-based fuzzing of the real ingest API: `WARDEN_FUZZ_RUNS` malformed requests (default
 * 1,000; replay one run with WARDEN_FUZZ_SEED). The supervisor is off: nothing here should reach it.
 */
let h: Harness;
before(async () => {
  h = await startHarness({ supervise: false });
});
after(async () => {
  await h.stop();
});

describe('ingest API under malformed requests (fast-check)', () => {
  it('never answers 5xx, never crashes, and stores nothing for a refused request', { timeout: 60_000 }, async () => {
    const result = await runHttpFuzz(h, { runs: fuzzRuns(), seed: fuzzSeed() });
    const { failures, crashErrors, writtenForRefused, ...numbers } = result;
    // Visible in the test output: what was tried and how it was answered.
    console.log(JSON.stringify({ http_fuzz: numbers }));
    assert.ok(result.cases >= Math.min(1_000, fuzzRuns()), `only ${result.cases} cases`);
    assert.deepEqual(crashErrors, [], 'the process saw unhandled rejections or uncaught exceptions');
    assert.equal(result.serverAlive, true, 'the API stopped answering /healthz');
    assert.equal(result.http5xx, 0, summarize(failures.filter((f) => f.problem === '5xx')));
    assert.deepEqual(failures, [], summarize(failures));
    assert.deepEqual(writtenForRefused, [], 'something was stored for a refused request');
    assert.ok(result.wrongCredentials >= Math.min(20, fuzzRuns() / 50), `only ${result.wrongCredentials} wrong-credential cases`);
  });
});
