/**
 * A zombie owner: a real `warden supervisor` process is SIGSTOPped past its lease TTL while its
 * jobs are mid-LLM-call. A second supervisor takes its partitions over with higher fencing
 * tokens and finishes the jobs (reclaiming them from the checkpoints, without waiting for the
 * SQS visibility timeout). Then the zombie is resumed (SIGCONT): its late checkpoints are refused
 * by DynamoDB, so no audit line carries its old token after the takeover, it says it lost
 * ownership, and the simulators count no duplicate or stale write-back and at most the zombie's
 * in-flight LLM calls paid twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OwnershipLostError } from '../../src/errors.ts';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { submitJob } from '../../src/ingest/submit-job.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import { illegalTransitions } from '../../src/stack/chaos/audit-check.ts';
import type { LocalStack } from '../../src/stack/local-stack.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import {
  exitWithin,
  memoryLogger,
  readJobs,
  seedField,
  silentLogger,
  sleep,
  spawnWardenSupervisor,
  startOwnershipStack,
  unfinished,
  VISIBILITY_S,
  waitForLog,
  waitUntil,
  type LogLine,
  type WardenProcess,
} from '../support/ownership-kit.ts';

const P = 4;
const ALL = Array.from({ length: P }, (_, p) => p);
const TIME_SCALE = 0.001;
const LEASE_TTL_MS = 1500;
const ZOMBIE = 'zombie-a';
const HEIR = 'heir-b';

let stack: LocalStack;
let client: RuntimeContext;
let dir: string;
let zombie: WardenProcess | undefined;
let heir: { supervisor: Supervisor; runtime: RuntimeContext; lines: LogLine[] } | undefined;

before(async () => {
  stack = await startOwnershipStack({ partitions: P, leaseTtlMs: LEASE_TTL_MS, llmTimeoutMs: 60_000 });
  client = await createRuntime(stack.config, { log: silentLogger() });
  dir = mkdtempSync(join(tmpdir(), 'warden-zombie-'));
});

after(async () => {
  await zombie?.kill();
  await heir?.supervisor.stop(2000);
  await heir?.runtime.close();
  stack?.llm.setFaults({ slowBodyRate: 0 });
  await client?.close();
  await stack?.stop();
  if (dir && !process.env['WARDEN_KEEP_TEST_LOGS']) rmSync(dir, { recursive: true, force: true });
});

describe('a paused owner (SIGSTOP past its lease TTL, then SIGCONT)', () => {
  it('cannot write after a new owner took over; nothing is written twice or stale', async () => {
    const llm0 = stack.llm.stats();
    const store0 = stack.records.stats();
    const configPath = stack.writeConfig(join(dir, 'config.json'));
    zombie = await spawnWardenSupervisor(configPath, ZOMBIE, join(dir, `${ZOMBIE}.log`));
    await waitForLog(zombie, 'supervisor started', (line) => line.msg === 'supervisor started' && (line['partitions'] as number[]).length === P, 20_000);

    // Every LLM answer takes 10 s: the zombie will be paused mid-call.
    stack.llm.setFaults({ slowBodyRate: 1, slowBodyMs: 10_000 / TIME_SCALE });
    const requests = Array.from({ length: 12 }, () => seedField(stack, 'zo')).flat();
    const ids = (await Promise.all(requests.map((request) => submitJob(ingestDeps(client), request)))).map((outcome) => outcome.job.id);
    await waitUntil('the zombie to have LLM calls in flight', () => stack.llm.inFlightBy(ZOMBIE) >= 8, 20_000);

    const zombieLeases = await client.leases().listAll(ALL);
    for (const p of ALL) assert.equal(zombieLeases.get(p)?.owner, ZOMBIE);
    const zombieTokens = new Set(ALL.map((p) => zombieLeases.get(p)?.token as number));
    const inFlightAtPause = stack.llm.inFlightBy(ZOMBIE);
    const pausedAt = Date.now();
    zombie.signal('SIGSTOP');

    // The heir joins with a fast LLM, waits out the zombie's leases and takes every partition.
    stack.llm.setFaults({ slowBodyRate: 0 });
    const { log, lines } = memoryLogger('info');
    const runtime = await createRuntime(stack.config, { member: HEIR, log });
    heir = { supervisor: new Supervisor(runtime, { id: HEIR }), runtime, lines };
    await heir.supervisor.start();
    const heirLeases = await waitUntil(
      'the heir to own every partition',
      async () => {
        const holders = await client.leases().listAll(ALL);
        // A grant in progress shows its owner with no token yet (reserved, not confirmed): wait for the tokens.
        const granted = ALL.every((p) => holders.get(p)?.owner === HEIR && typeof holders.get(p)?.token === 'number');
        return granted && heir?.supervisor.ownedPartitions().length === P ? holders : undefined;
      },
      20_000,
      50,
    );
    assert.ok(Date.now() - pausedAt >= LEASE_TTL_MS, 'taken over only after the zombie lease TTL');
    for (const p of ALL) {
      assert.ok((heirLeases.get(p)?.token as number) > (zombieLeases.get(p)?.token as number), `partition ${p}: the heir's token is higher`);
    }

    // The heir resumes the jobs the zombie left mid-call from their checkpoints: recovered well
    // before their SQS messages (kept hidden by the zombie) could come back.
    await waitUntil('every job to finish under the heir', async () => (await unfinished(client, ids)).length === 0, (VISIBILITY_S - 5) * 1000, 100);
    assert.ok(lines.some((line) => line.msg === 'resuming jobs left in flight by a former owner'), 'the heir reclaimed the jobs from their checkpoints');

    // The fence itself, on a job in flight under the heir: a checkpoint in the right state but
    // with the zombie's token (what a late write that slipped past its lease keeper would be)
    // is refused by DynamoDB with the typed outcome.
    stack.llm.setFaults({ slowBodyRate: 1, slowBodyMs: 3000 / TIME_SCALE });
    const probe = (await submitJob(ingestDeps(client), seedField(stack, 'zp')[0])).job;
    const probeRunning = await waitUntil(
      'a job running under the heir',
      async () => {
        const job = await client.checkpoints.get(probe.id);
        return job?.state === 'running' && job.owner === HEIR ? job : undefined;
      },
      15_000,
      20,
    );
    stack.llm.setFaults({ slowBodyRate: 0 });
    const staleToken = zombieLeases.get(probe.partition)?.token as number;
    assert.ok(staleToken < probeRunning.token);
    await assert.rejects(
      client.checkpoints.transition(probe.id, { event: 'generate', from: 'running', writer: { actor: ZOMBIE, token: staleToken }, reason: 'late write' }),
      (error: unknown) => error instanceof OwnershipLostError && error.code === 'ownership_lost',
    );
    ids.push(probe.id);

    // Let the zombie's 10 s answers arrive in full while it is still stopped: on SIGCONT it has
    // complete LLM results in hand and tries to checkpoint them.
    await waitUntil("the zombie's LLM answers to be fully sent", () => stack.llm.inFlightBy(ZOMBIE) === 0, 20_000, 100);
    const resumedAt = Date.now();
    zombie.signal('SIGCONT');

    // It notices at once that it lost its leases.
    const lost = await waitUntil(
      'the zombie to say it lost its partition leases',
      () => {
        const said = (zombie as WardenProcess).logLines().filter((line) => line.msg === 'partition lease lost' && Date.parse(line.time) >= resumedAt - 5);
        return new Set(said.map((line) => line.partition)).size === P ? said : undefined;
      },
      10_000,
    );
    for (const line of lost) assert.ok(zombieTokens.has(line['token'] as number), 'lost the grants it held before the pause');
    // And the jobs it had in flight end for it with the typed outcome: ownership lost, result discarded.
    await waitUntil(
      "the zombie's in-flight jobs to end with ownership_lost",
      () => (zombie as WardenProcess).logLines().some((line) => line['code'] === 'ownership_lost' && /result discarded/.test(line.msg ?? '')),
      10_000,
    );
    // Give its in-flight work time to fail, and the fleet time to rebalance with it back in.
    await sleep(3 * LEASE_TTL_MS);

    const jobs = await readJobs(client, ids);
    assert.equal(jobs.size, ids.length);
    let reclaimed = 0;
    for (const job of jobs.values()) {
      assert.equal(job.state, 'succeeded', `job ${job.id} ended ${job.state}`);
      assert.equal(illegalTransitions(job), 0, `job ${job.id} audit: ${JSON.stringify(job.audit)}`);
      const takeover = job.audit.findIndex((line) => line.actor === HEIR);
      assert.ok(takeover > 0, `job ${job.id} was finished by the heir`);
      const takeoverToken = (job.audit[takeover] as { token: number }).token;
      if (job.audit[takeover]?.event === 'reclaim') reclaimed += 1;
      for (const line of job.audit.slice(takeover)) {
        assert.ok(!(line.actor === ZOMBIE && zombieTokens.has(line.token)), `job ${job.id}: a late write by the zombie landed: ${JSON.stringify(line)}`);
        assert.ok(line.token >= takeoverToken, `job ${job.id}: token went back after the takeover: ${JSON.stringify(line)}`);
      }
    }
    assert.ok(reclaimed >= 1, 'jobs the zombie had started were reclaimed by the heir');

    const llm = stack.llm.stats();
    const store = stack.records.stats();
    assert.equal(store.duplicateWritebacks - store0.duplicateWritebacks, 0, 'duplicate_writebacks');
    assert.equal(store.staleWritebacks - store0.staleWritebacks, 0, 'stale_writebacks');
    assert.equal(store.writebacks - store0.writebacks, ids.length, 'one write-back per job');
    const duplicates = llm.duplicateCalls - llm0.duplicateCalls;
    assert.ok(duplicates <= inFlightAtPause, `duplicate LLM calls ${duplicates} ≤ calls in flight at the pause ${inFlightAtPause}`);

    // Back from the dead it is an ordinary member again: it drains and exits cleanly.
    zombie.signal('SIGTERM');
    const status = await exitWithin(zombie, 30_000);
    assert.equal(status, 0, `the resumed supervisor's exit status; log:\n${zombie.logTail(20)}`);
  });
});
