/**
 * A grant that is already past its local deadline when the supervisor gets it (the confirm's
 * answer came back late: a slow network, a stalled event loop, a busy host). The lease keeper
 * drops it at once (deadline_passed) and frees the key; the supervisor must then not run an
 * actor for that partition, and must take the partition again in a later round with a new
 * token, so its jobs are processed. Seen under load in the chaos run: a supervisor logged
 * "partition acquired" and 18 ms later "partition lease lost … deadline_passed", after which an
 * actor kept polling that partition's queue without a lease.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { submitJob } from '../../src/ingest/submit-job.ts';
import { isTerminal } from '../../src/jobs/job-states.ts';
import type { LeaseStore } from '../../src/runtime/leases/lease-store.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import type { LocalStack } from '../../src/stack/local-stack.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import { memoryLogger, seedField, silentLogger, sleep, startOwnershipStack, waitUntil } from '../support/ownership-kit.ts';

const P = 2;
const ALL = [0, 1];
const LEASE_TTL_MS = 1500;
const ID = 'late-grant';

let stack: LocalStack;
let client: RuntimeContext;
let runtime: RuntimeContext | undefined;
let supervisor: Supervisor | undefined;

before(async () => {
  stack = await startOwnershipStack({ partitions: P, leaseTtlMs: LEASE_TTL_MS });
  client = await createRuntime(stack.config, { log: silentLogger() });
});

after(async () => {
  await supervisor?.stop(2000);
  await runtime?.close();
  await client?.close();
  await stack?.stop();
});

describe('a lease granted too late to be used', () => {
  it('runs no actor without the lease and is taken again with a new token', async () => {
    const { log, lines } = memoryLogger('info');
    runtime = await createRuntime(stack.config, { member: ID, log });
    const real = runtime.leases();
    let firstToken: number | undefined;
    // The first grant of partition 0 reaches the supervisor only after its TTL has run out.
    const lateOnce: LeaseStore = {
      async acquire(partition, owner, ttlMs) {
        const lease = await real.acquire(partition, owner, ttlMs);
        if (lease && partition === 0 && firstToken === undefined) {
          firstToken = lease.token;
          await sleep(ttlMs + 200);
        }
        return lease;
      },
      renew: (lease, ttlMs) => real.renew(lease, ttlMs),
      renewMany: (leases, ttlMs) => real.renewMany(leases, ttlMs),
      release: (lease) => real.release(lease),
      current: (partition) => real.current(partition),
      listAll: (partitions) => real.listAll(partitions),
    };
    supervisor = new Supervisor({ ...runtime, leases: () => lateOnce }, { id: ID });
    await supervisor.start();

    const lost = lines.find((line) => line.msg === 'partition lease lost' && line.partition === 0);
    assert.equal(lost?.['reason'], 'deadline_passed', 'the keeper refused the stale grant at once');
    assert.equal(lost?.['token'], firstToken);

    const sup = supervisor;
    try {
      await waitUntil(
        'partition 0 to be owned again under a new grant, with actors only where leases are held',
        async () => {
          const holders = await client.leases().listAll(ALL);
          const held = ALL.filter((p) => holders.get(p)?.owner === ID);
          const token = holders.get(0)?.token ?? 0;
          return held.join() === '0,1' && sup.ownedPartitions().join() === '0,1' && token > (firstToken ?? 0);
        },
        5 * LEASE_TTL_MS,
        50,
      );
    } catch (error) {
      const holders = await client.leases().listAll(ALL);
      assert.fail(
        `${(error as Error).message}: the supervisor runs actors for [${sup.ownedPartitions()}] while Redis says ` +
          `${JSON.stringify(Object.fromEntries(holders))} (an actor for a partition whose lease it lost)`,
      );
    }

    // And the partition works: a job on it succeeds.
    const [request] = seedField(stack, 'lg', 1, 0);
    const { job } = await submitJob(ingestDeps(client), request);
    const done = await waitUntil('the job on partition 0 to finish', async () => {
      const current = await client.checkpoints.get(job.id);
      return current && isTerminal(current.state) ? current : undefined;
    }, 15_000);
    assert.equal(done.state, 'succeeded');
    assert.equal(
      lines.filter((line) => line.partition === 0 && line.msg === 'job handling failed; message will be redelivered').length,
      0,
      'no job was handled on partition 0 without its lease',
    );
  });
});
