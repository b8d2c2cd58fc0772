/**
 * SIGTERM drain of a real `warden supervisor` process (what systemd and an Auto Scaling scale-in
 * send): it stops polling, finishes the jobs in flight, returns the messages it had not started
 * (visibility 0, so the next supervisor gets them at once rather than after the 30 s visibility
 * timeout), releases its leases, leaves, and exits 0. A second SIGTERM during a long drain stops
 * at once. Either way nothing is lost, nothing is written twice or stale: counted at the
 * simulated LLM and record store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { submitJob } from '../../src/ingest/submit-job.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import type { LocalStack } from '../../src/stack/local-stack.ts';
import {
  exitWithin,
  queueCounts,
  readJobs,
  seedField,
  silentLogger,
  spawnWardenSupervisor,
  startOwnershipStack,
  unfinished,
  VISIBILITY_S,
  waitForLog,
  waitUntil,
  type WardenProcess,
} from '../support/ownership-kit.ts';

const P = 4;
const ALL = Array.from({ length: P }, (_, p) => p);
const TIME_SCALE = 0.001;
const DRAIN_BUDGET_MS = 60_000;

let stack: LocalStack;
let client: RuntimeContext;
let dir: string;
let configPath: string;
const processes: WardenProcess[] = [];

async function startSupervisor(id: string): Promise<WardenProcess> {
  const proc = await spawnWardenSupervisor(configPath, id, join(dir, `${id}.log`));
  processes.push(proc);
  await waitForLog(proc, 'supervisor started', (line) => line.msg === 'supervisor started', 20_000);
  return proc;
}

async function submitAll(fields: number, variants: number, tag: string): Promise<string[]> {
  const requests = Array.from({ length: fields }, () => seedField(stack, tag, variants)).flat();
  const outcomes = await Promise.all(requests.map((request) => submitJob(ingestDeps(client), request)));
  const ids = outcomes.map((outcome) => outcome.job.id);
  assert.equal(new Set(ids).size, fields * variants, 'every request is its own job');
  return ids;
}

const slowLlm = (realMs: number) => stack.llm.setFaults({ slowBodyRate: 1, slowBodyMs: realMs / TIME_SCALE });
const fastLlm = () => stack.llm.setFaults({ slowBodyRate: 0 });

before(async () => {
  stack = await startOwnershipStack({ partitions: P, llmTimeoutMs: 120_000, drainTimeoutMs: DRAIN_BUDGET_MS });
  client = await createRuntime(stack.config, { log: silentLogger() });
  dir = mkdtempSync(join(tmpdir(), 'warden-sigterm-'));
  configPath = stack.writeConfig(join(dir, 'config.json'));
});

after(async () => {
  await Promise.allSettled(processes.map((proc) => proc.kill()));
  stack?.llm.setFaults({ slowBodyRate: 0 });
  await client?.close();
  await stack?.stop();
  if (dir && !process.env['WARDEN_KEEP_TEST_LOGS']) rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM drain of a supervisor process', () => {
  it('finishes in-flight jobs, returns unstarted messages, releases everything and exits 0; the next supervisor gets the rest at once', async () => {
    const llm0 = stack.llm.stats();
    const store0 = stack.records.stats();
    slowLlm(3000);
    const first = await startSupervisor('drain-a1');
    // 10 fields × 3 jobs: one job per field runs at a time, the other two wait in the actor
    // (received, not started) behind it.
    const ids = await submitAll(10, 3, 'sa');
    await waitUntil('the first supervisor to receive every message', async () => (await queueCounts(client, stack)).invisible === ids.length, 15_000);
    await waitUntil('LLM calls in flight', () => stack.llm.inFlightBy('drain-a1') >= 5, 15_000);
    const atSignal = await readJobs(client, ids);
    const running = [...atSignal.values()].filter((job) => job.state === 'running').map((job) => job.id);
    assert.ok(running.length >= 5, `${running.length} jobs running at SIGTERM`);

    first.signal('SIGTERM');
    const status = await exitWithin(first, 30_000);
    assert.equal(status, 0, `exit status after a drain; log:\n${first.logTail()}`);

    // Right after the exit: the jobs that were running finished, nothing else was started, and
    // every message not finished is visible again (none left hidden for the visibility timeout).
    const afterDrain = await readJobs(client, ids);
    for (const id of running) assert.equal(afterDrain.get(id)?.state, 'succeeded', 'a job in flight at SIGTERM finished within the drain budget');
    const queued = [...afterDrain.values()].filter((job) => job.state === 'queued');
    const states = new Set([...afterDrain.values()].map((job) => job.state));
    assert.deepEqual([...states].filter((s) => s !== 'queued' && s !== 'succeeded'), [], 'no job left claimed or running: drained jobs finished, the others were never started');
    assert.ok(queued.length >= 10, `${queued.length} unstarted jobs returned`);
    assert.deepEqual(await queueCounts(client, stack), { visible: queued.length, invisible: 0 }, 'unstarted messages went back to the queue at once');
    assert.equal((await client.leases().listAll(ALL)).size, 0, 'every lease released');
    assert.ok(!(await client.members().live()).includes('drain-a1'), 'left the membership');
    const said = first.logLines().map((line) => line.msg);
    assert.ok(said.includes('signal received: draining'));
    assert.ok(said.includes('supervisor drained'));

    // The next supervisor receives the returned messages without waiting out their visibility.
    fastLlm();
    const secondStarted = Date.now();
    const second = await startSupervisor('drain-a2');
    await waitUntil('every job to finish', async () => (await unfinished(client, ids)).length === 0, (VISIBILITY_S - 10) * 1000, 100);
    assert.ok(Date.now() - secondStarted < VISIBILITY_S * 1000);

    const done = await readJobs(client, ids);
    assert.deepEqual([...new Set([...done.values()].map((job) => job.state))], ['succeeded'], 'nothing lost');
    const llm = stack.llm.stats();
    const store = stack.records.stats();
    assert.equal(llm.duplicateCalls - llm0.duplicateCalls, 0, 'a clean drain pays for nothing twice');
    assert.equal(store.writebacks - store0.writebacks, ids.length, 'one write-back per job');
    assert.equal(store.duplicateWritebacks - store0.duplicateWritebacks, 0);
    assert.equal(store.staleWritebacks - store0.staleWritebacks, 0);

    second.signal('SIGTERM');
    assert.equal(await exitWithin(second, 30_000), 0, `second supervisor's exit status; log:\n${second.logTail()}`);
  });

  let hardStopped: WardenProcess | undefined;
  let hardIds: string[] = [];
  let inFlightAtHardStop = 0;
  const llmBeforeHard = { duplicateCalls: 0 };
  const storeBeforeHard = { duplicateWritebacks: 0, staleWritebacks: 0 };

  it('a second SIGTERM during a long drain stops at once, exiting 0', async () => {
    llmBeforeHard.duplicateCalls = stack.llm.stats().duplicateCalls;
    Object.assign(storeBeforeHard, { duplicateWritebacks: stack.records.stats().duplicateWritebacks, staleWritebacks: stack.records.stats().staleWritebacks });
    // LLM answers take 60 s: a graceful drain (budget 60 s) would wait for all of them.
    slowLlm(60_000);
    hardStopped = await startSupervisor('drain-b1');
    hardIds = await submitAll(20, 1, 'sb');
    await waitUntil('LLM calls in flight', () => stack.llm.inFlightBy('drain-b1') >= 10, 15_000);

    hardStopped.signal('SIGTERM');
    await waitForLog(hardStopped, 'the drain starting', (line) => line.msg === 'supervisor draining', 5000);
    assert.equal(await exitWithin(hardStopped, 1000), undefined, 'still draining: the jobs in flight take a minute');
    inFlightAtHardStop = stack.llm.inFlightBy('drain-b1');
    const signalledAt = Date.now();
    hardStopped.signal('SIGTERM');
    const status = await exitWithin(hardStopped, 10_000);
    const tookMs = Date.now() - signalledAt;
    assert.notEqual(status, undefined, `the second SIGTERM did not stop the process: still running 10 s later (drain budget ${DRAIN_BUDGET_MS} ms); log:\n${hardStopped.logTail(15)}`);
    assert.ok(tookMs < 5000, `exited ${tookMs} ms after the second SIGTERM (a drain would take a minute)`);
    assert.equal(status, 0);
    assert.equal((await client.leases().listAll(ALL)).size, 0, 'every lease released');
  });

  it('after the hard stop nothing is lost once another supervisor finishes the work', async () => {
    assert.ok(hardStopped, 'the previous step started a supervisor');
    // If the hard stop did not work, this is the hardest stop there is.
    if (!hardStopped.hasExited()) await hardStopped.kill();
    fastLlm();
    const next = await startSupervisor('drain-b2');
    await waitUntil('every job to finish', async () => (await unfinished(client, hardIds)).length === 0, (VISIBILITY_S - 5) * 1000, 100);
    const done = await readJobs(client, hardIds);
    assert.deepEqual([...new Set([...done.values()].map((job) => job.state))], ['succeeded'], 'nothing lost');
    const llm = stack.llm.stats();
    const store = stack.records.stats();
    assert.ok(
      llm.duplicateCalls - llmBeforeHard.duplicateCalls <= inFlightAtHardStop,
      `duplicate LLM calls ${llm.duplicateCalls - llmBeforeHard.duplicateCalls} ≤ calls in flight at the hard stop ${inFlightAtHardStop}`,
    );
    assert.equal(store.duplicateWritebacks - storeBeforeHard.duplicateWritebacks, 0);
    assert.equal(store.staleWritebacks - storeBeforeHard.staleWritebacks, 0);
    next.signal('SIGTERM');
    assert.equal(await exitWithin(next, 30_000), 0, `exit status; log:\n${next.logTail()}`);
  });
});
