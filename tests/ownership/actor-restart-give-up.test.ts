/**
 * Restart intensity: a partition actor whose queue fails fatally (the SQS queue is deleted, so
 * receive throws QueueDoesNotExist and the actor crashes) is restarted with backoff under the
 * same lease; an actor that comes back to a healthy queue goes on working; one that keeps
 * crashing past the limit is given up: the lease is released, the supervisor says so, keeps every
 * other partition, and does not take the given-up partition back during its cooldown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { submitJob } from '../../src/ingest/submit-job.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import type { LocalStack } from '../../src/stack/local-stack.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import { memoryLogger, seedField, silentLogger, sleep, startOwnershipStack, waitUntil, type LogLine } from '../support/ownership-kit.ts';

const P = 4;
const ALL = Array.from({ length: P }, (_, p) => p);
const LEASE_TTL_MS = 1500;

let stack: LocalStack;
let client: RuntimeContext;
const running: Array<{ supervisor: Supervisor; runtime: RuntimeContext }> = [];

async function startSupervisor(id: string, options: ConstructorParameters<typeof Supervisor>[1]) {
  const { log, lines } = memoryLogger('info');
  const runtime = await createRuntime(stack.config, { member: id, log });
  const supervisor = new Supervisor(runtime, { id, ...options });
  running.push({ supervisor, runtime });
  await supervisor.start();
  await waitUntil(`${id} to own every partition`, () => supervisor.ownedPartitions().length === P, 10_000);
  return { supervisor, runtime, lines };
}

async function deleteQueue(partition: number): Promise<void> {
  await client.aws.sqs.send(new DeleteQueueCommand({ QueueUrl: stack.infra.queues.partitions[partition] }));
}

async function recreateQueue(partition: number): Promise<void> {
  const out = await client.aws.sqs.send(
    new CreateQueueCommand({ QueueName: `${stack.config.queues.prefix}${partition}`, Attributes: { VisibilityTimeout: String(stack.config.queues.visibilityTimeoutS) } }),
  );
  assert.equal(out.QueueUrl, stack.infra.queues.partitions[partition], 'the queue comes back under the same URL');
}

/** Submits one job on `partition` and waits for it to succeed. */
async function jobSucceedsOn(partition: number): Promise<void> {
  const [request] = seedField(stack, 'rg', 1, partition);
  const { job } = await submitJob(ingestDeps(client), request);
  assert.equal(job.partition, partition);
  const done = await waitUntil(`job on partition ${partition} to finish`, async () => {
    const current = await client.checkpoints.get(job.id);
    return current && ['succeeded', 'failed', 'dead_lettered', 'superseded', 'cancelled'].includes(current.state) ? current : undefined;
  }, 15_000);
  assert.equal(done.state, 'succeeded');
}

const crashLines = (lines: LogLine[], partition: number) => lines.filter((l) => l.partition === partition && l.msg === 'partition actor crashed; restarting');
const giveUpLines = (lines: LogLine[], partition: number) => lines.filter((l) => l.partition === partition && /giv(e|ing) the partition up/.test(l.msg ?? ''));
const errName = (line: LogLine) => {
  const err = line['err'] as { type?: string; name?: string; Code?: string; message?: string } | undefined;
  return `${err?.type ?? ''} ${err?.name ?? ''} ${err?.Code ?? ''} ${err?.message ?? ''}`;
};

before(async () => {
  stack = await startOwnershipStack({ partitions: P, leaseTtlMs: LEASE_TTL_MS });
  client = await createRuntime(stack.config, { log: silentLogger() });
});

after(async () => {
  await Promise.allSettled(running.map(({ supervisor }) => supervisor.stop(2000)));
  await Promise.allSettled(running.map(({ runtime }) => runtime.close()));
  await client?.close();
  await stack?.stop();
});

describe('a crashing partition actor', () => {
  it('is restarted after its backoff under the same lease, and works again once its queue is back', async () => {
    const { supervisor, lines } = await startSupervisor('rg-restarts', {
      restart: { maxRestarts: 3, windowMs: 60_000, baseDelayMs: 1500, maxDelayMs: 3000 },
      giveUpCooldownMs: 600_000,
    });
    const granted = await client.leases().listAll(ALL);
    await deleteQueue(1);
    const crash = await waitUntil('the actor of partition 1 to crash', () => crashLines(lines, 1)[0], 10_000, 10);
    assert.equal(crash.level, 40);
    assert.equal(crash['delay_ms'], 1500);
    assert.match(errName(crash), /QueueDoesNotExist|NonExistentQueue/);
    // The queue heals within the backoff: the restarted actor polls it normally.
    await recreateQueue(1);
    await sleep(2500);
    assert.equal(crashLines(lines, 1).length, 1, 'the restarted actor did not crash again');
    assert.equal(giveUpLines(lines, 1).length, 0);
    assert.deepEqual(supervisor.ownedPartitions(), ALL);
    const during = await client.leases().listAll(ALL);
    assert.equal(during.get(1)?.owner, 'rg-restarts');
    assert.equal(during.get(1)?.token, granted.get(1)?.token, 'a restart reuses the lease: no new grant');
    await jobSucceedsOn(1);
    await supervisor.stop(2000);
  });

  it('is given up after the restart-intensity limit: lease released, the others kept, and it says so', async () => {
    const { supervisor, lines } = await startSupervisor('rg-gives-up', {
      restart: { maxRestarts: 2, windowMs: 60_000, baseDelayMs: 50, maxDelayMs: 100 },
      giveUpCooldownMs: 600_000,
    });
    const granted = await client.leases().listAll(ALL);
    const token = granted.get(2)?.token;
    assert.equal(granted.get(2)?.owner, 'rg-gives-up');

    // Watch ownership and the lease holder of partition 2 while it crashes.
    const samples: Array<{ at: number; owned: boolean; holder: string | undefined; token: number | null | undefined }> = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const holder = (await client.leases().listAll([2])).get(2);
        samples.push({ at: Date.now(), owned: supervisor.ownedPartitions().includes(2), holder: holder?.owner, token: holder?.token });
        await sleep(10);
      }
    })();

    await deleteQueue(2);
    const giveUp = await waitUntil('the supervisor to give partition 2 up', () => giveUpLines(lines, 2)[0], 15_000, 10);
    await waitUntil('the lease of partition 2 to be released', async () => !(await client.leases().listAll([2])).has(2), 5000, 20);
    // Longer than the two lease TTLs after which a free partition is rescued by anyone: the
    // cooldown keeps this supervisor from taking its given-up partition straight back.
    await sleep(2 * LEASE_TTL_MS + 1000);
    watching = false;
    await watcher;

    // What it said: two restarts with doubling backoff, then the give-up, as an error.
    const crashes = crashLines(lines, 2);
    assert.deepEqual(crashes.map((l) => l['delay_ms']), [50, 100], 'restarted twice (maxRestarts 2) with exponential backoff');
    for (const line of crashes) assert.match(errName(line), /QueueDoesNotExist|NonExistentQueue/);
    assert.equal(giveUp.level, 50);
    assert.match(giveUp.msg ?? '', /giving the partition up/);
    assert.equal(giveUp['member'], 'rg-gives-up');
    assert.match(errName(giveUp), /QueueDoesNotExist|NonExistentQueue/);
    assert.equal(giveUpLines(lines, 2).length, 1, 'given up once');
    // Each restart waited its backoff before the restarted actor ran (and crashed) again.
    const times = [...crashes, giveUp].map((l) => Date.parse(l.time));
    assert.ok((times[1] as number) - (times[0] as number) >= 50 - 2, `second crash ${(times[1] as number) - (times[0] as number)} ms after the first`);
    assert.ok((times[2] as number) - (times[1] as number) >= 100 - 2, `third crash ${(times[2] as number) - (times[1] as number)} ms after the second`);

    // What the lease and the actor table did: held under the one grant through the restarts,
    // then released and never taken back.
    const giveUpAt = Date.parse(giveUp.time);
    const whileRestarting = samples.filter((s) => s.at < giveUpAt - 5);
    assert.ok(whileRestarting.length > 0);
    for (const s of whileRestarting) {
      assert.equal(s.owned, true, 'the supervisor kept the partition while restarting its actor');
      assert.equal(s.holder, 'rg-gives-up');
      assert.equal(s.token, token, 'restarts happen under the same lease');
    }
    const released = samples.findIndex((s) => s.holder === undefined);
    assert.ok(released >= 0, 'the lease was released');
    for (const s of samples.slice(released)) {
      assert.equal(s.holder, undefined, 'nobody holds the given-up partition during the cooldown');
      assert.equal(s.owned, false);
    }

    // The rest of the supervisor is untouched.
    assert.deepEqual(supervisor.ownedPartitions(), [0, 1, 3]);
    const holders = await client.leases().listAll(ALL);
    for (const p of [0, 1, 3]) {
      assert.equal(holders.get(p)?.owner, 'rg-gives-up');
      assert.equal(holders.get(p)?.token, granted.get(p)?.token, `partition ${p} kept its grant`);
    }
    assert.equal(crashLines(lines, 0).length + crashLines(lines, 1).length + crashLines(lines, 3).length, 0);
    await jobSucceedsOn(3);
  });
});
