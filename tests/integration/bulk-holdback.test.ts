import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobState } from '../../src/jobs/job-states.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

// One partition, 8 slots, at most 2 bulk jobs waiting for capacity; the limiter gives bulk work
// about one call every 2.5 s, so a backlog of bulk jobs is waiting when interactive work arrives.
let h: Harness;
before(async () => {
  h = await startHarness({
    partitions: 1,
    configOverrides: (config) => {
      config['actor'] = { concurrency: 8, bulkWaiting: 2 };
      config['limiter'] = { enabled: true, rpm: 120, tpm: 10_000_000, bulkReserveFraction: 0.8, tenantShare: 1 };
    },
  });
});
after(async () => {
  await h.stop();
});

const STARTED: ReadonlySet<JobState> = new Set(['running', 'generated', 'succeeded']);

describe('bulk work waiting for capacity', () => {
  it('never holds the slots interactive work needs: interactive jobs run while the bulk backlog waits in the queue', async () => {
    const bulk = [];
    for (let i = 0; i < 16; i += 1) bulk.push((await h.post(seedRequest(h, { priority: 'bulk' }))).body.id as string);
    // Let the actor fill its bulk allowance and hand the rest of the bulk messages back.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const interactive = [];
    for (let i = 0; i < 6; i += 1) interactive.push((await h.post(seedRequest(h, { priority: 'interactive' }))).body.id as string);
    for (const id of interactive) assert.equal((await h.waitFor(id, undefined, 20_000)).state, 'succeeded');
    const states = await Promise.all(bulk.map(async (id) => (await h.runtime.checkpoints.get(id))?.state));
    const started = states.filter((state) => state !== undefined && STARTED.has(state)).length;
    // Six interactive jobs went through while most of the bulk backlog had not even started: the
    // eight slots were not all taken by bulk jobs waiting in the limiter.
    assert.ok(started <= 8, `bulk jobs started before the interactive ones finished: ${started} of 16`);
    assert.ok(states.filter((state) => state === 'queued').length >= 8, `bulk jobs still queued: ${states.join(',')}`);
    for (const id of bulk) assert.equal((await h.waitFor(id, undefined, 60_000)).state, 'succeeded');
    assert.equal(h.stack.records.stats().duplicateWritebacks, 0);
  });
});
