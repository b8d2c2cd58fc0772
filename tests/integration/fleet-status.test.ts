import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fleetStatus, formatFleetStatus } from '../../src/ops/fleet-status.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ supervise: true });
});
after(async () => {
  await h.stop();
});

describe('warden status', () => {
  it('shows the member, every partition owned with its token, and unfinished work', async () => {
    const status = await fleetStatus(h.runtime);
    assert.deepEqual(status.members, ['test-supervisor']);
    assert.equal(status.partitions.length, h.stack.config.partitions);
    for (const partition of status.partitions) {
      assert.equal(partition.owner, 'test-supervisor');
      assert.ok((partition.token ?? 0) >= 1);
      assert.ok((partition.lease_ttl_ms ?? 0) > 0);
    }
    const table = formatFleetStatus(status);
    assert.match(table, /members \(1\): test-supervisor/);
    assert.match(table, /dead letters: transient 0, permanent 0/);
  });

  it('counts a job that is not finished in its partition', async () => {
    await h.supervisor.stop(1000);
    const { body } = await h.post(seedRequest(h));
    const job = await h.runtime.checkpoints.get(body.id);
    // Global secondary indexes are eventually consistent, in DynamoDB as in its emulator.
    let row;
    for (let tries = 0; tries < 50; tries += 1) {
      row = (await fleetStatus(h.runtime)).partitions.find((p) => p.partition === job?.partition);
      if (row?.unfinished_jobs === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(row?.unfinished_jobs, 1);
    // Visible, or held by the long poll the stopped actor aborted (it reappears after the timeout).
    assert.equal((row?.queue_visible ?? 0) + (row?.queue_in_flight ?? 0), 1);
    assert.equal(row?.owner, null);
  });
});
