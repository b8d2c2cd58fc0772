/**
 * The chaos scenario of src/stack/chaos/run-chaos.ts, replayed against a fleet of BullMQ worker
 * processes doing the same job work (bullmq/job-work.ts) on the same kind of stack: the same
 * seeded workload (duplicates, records edited mid-flight), the same fault schedule (kill -9 then
 * a replacement 2 s later, SIGSTOP for twice the lock TTL, a Redis restart, a worker joining, one
 * leaving gracefully). Counts are taken at the simulated LLM and record store, as for warden.
 *
 * BullMQ is set up the way its documentation recommends for idempotent work: the job id is
 * warden's job key (a duplicate submission while the job exists is ignored), completed jobs are
 * kept (so later duplicates are ignored too), 5 attempts with exponential backoff, and the lock
 * TTL and stalled-check interval set to warden's lease TTL, so a dead worker's jobs come back
 * as fast as a dead supervisor's partitions do.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { jobKey } from '../../src/jobs/job-key.ts';
import { buildWorkload } from '../../src/stack/demo/workload.ts';
import { startLocalStack } from '../../src/stack/local-stack.ts';
import { mulberry32 } from '../../src/stack/sim-llm/random.ts';
import { BullProcess } from '../bullmq/bull-process.ts';
import { sleep } from '../common/stats.ts';

export interface BullChaosOptions {
  jobs: number;
  workers: number;
  /** Total concurrency over the initial fleet (warden: partitions x actor concurrency). */
  slots: number;
  spreadS: number;
  kills: number;
  pauses: number;
  redisRestarts: number;
  /** true: the restarted Redis comes back empty (as in warden's chaos run); false: with its data. */
  redisWipe: boolean;
  timeScale: number;
  seed: number;
  lockTtlMs: number;
  deadlineS: number;
  workDir: string;
  print: (line: string) => void;
}

interface Member {
  slot: number;
  id: string;
  process: BullProcess;
  paused: boolean;
}

export async function runBullChaos(options: BullChaosOptions) {
  const started = Date.now();
  mkdirSync(resolve(options.workDir), { recursive: true });
  const random = mulberry32(options.seed);
  const stack = await startLocalStack({ partitions: 1, timeScale: options.timeScale, timeoutRate: 0, mode: 'child' });
  const queueName = 'bench-crash-bullmq';
  const connection = new Redis(stack.infra.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const eventsConnection = new Redis(stack.infra.redis.url, { maxRetriesPerRequest: null });
  const events = new QueueEvents(queueName, { connection: eventsConnection });
  let stalled = 0;
  events.on('stalled', () => (stalled += 1));
  const members = new Map<number, Member>();
  // Completions are logged by the workers to a file: after a Redis wipe, Redis no longer knows them.
  const completedLog = join(resolve(options.workDir), 'completed-jobs.log');
  rmSync(completedLog, { force: true });
  const faults: Array<{ kind: string; member?: string; at: number; llmInFlight: number }> = [];
  let generation = 0;
  const concurrency = Math.max(1, Math.round(options.slots / options.workers));
  const startWorker = async (slot: number): Promise<Member> => {
    generation += 1;
    const id = `bull-s${slot}-g${generation}`;
    const process = await BullProcess.start({
      redisUrl: stack.infra.redis.url,
      queue: queueName,
      concurrency,
      member: id,
      llmUrl: stack.llm.url,
      recordsUrl: stack.records.url,
      promptsDir: stack.config.prompts.dir,
      model: stack.config.llm.model,
      llmTimeoutMs: stack.config.llm.timeoutMs,
      autorun: true,
      lockDuration: options.lockTtlMs,
      stalledInterval: options.lockTtlMs,
      maxStalledCount: 5,
      completedLog,
    });
    const member = { slot, id, process, paused: false };
    members.set(slot, member);
    return member;
  };
  const record = (kind: string, member?: Member) =>
    faults.push({ kind, ...(member ? { member: member.id } : {}), at: Date.now(), llmInFlight: member ? stack.llm.inFlightBy(member.id) : 0 });
  const ids = new Set<string>();
  try {
    for (let slot = 1; slot <= options.workers; slot += 1) await startWorker(slot);
    const workload = buildWorkload({ total: options.jobs, seed: options.seed, spreadMs: options.spreadS * 1000 });
    for (const r of workload.records) stack.records.putRecord(r.base_id, r.table_id, r.record_id, r.fields);
    options.print(`bullmq chaos: ${options.workers} workers x ${concurrency}, ${workload.submissions.length} submissions over ${options.spreadS} s`);
    const t0 = Date.now();
    const work: Array<Promise<unknown>> = [];
    const at = (ms: number, fn: () => Promise<unknown> | void) => work.push(sleep(ms).then(fn));
    for (const submission of workload.submissions) {
      at(submission.atMs, async () => {
        const id = jobKey(submission.request);
        ids.add(id);
        // Submissions retry through a Redis restart, as a producer with a retry policy would.
        for (let attempt = 0; attempt < 20; attempt += 1) {
          try {
            await queue.add('generate', submission.request, {
              jobId: id,
              attempts: 5,
              backoff: { type: 'exponential', delay: Math.max(10, Math.round(1000 * options.timeScale)) },
            });
            return;
          } catch {
            await sleep(250);
          }
        }
      });
    }
    for (const edit of workload.edits) {
      at(edit.atMs, () => {
        const { record: r } = edit;
        const fields = edit.kind === 'input' ? { fldNotes: `${r.fields['fldNotes']} (edited)` } : { fldStatus: 'touched' };
        stack.records.editRecord(r.base_id, r.table_id, r.record_id, fields);
      });
    }
    const span = options.spreadS * 1000;
    const slots = () => [...members.keys()];
    const pick = () => slots()[Math.floor(random() * slots().length)] as number;
    const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1);
    for (let i = 0; i < options.kills; i += 1) {
      at(span * (0.15 + (0.6 * i) / Math.max(1, options.kills)), async () => {
        const slot = pick();
        const member = members.get(slot);
        if (!member) return;
        record('kill', member);
        member.process.signal('SIGKILL');
        members.delete(slot);
        options.print(`  t=${elapsed()}s kill -9 bullmq worker ${slot}`);
        await sleep(2000);
        record('join', await startWorker(slot));
      });
    }
    for (let i = 0; i < options.pauses; i += 1) {
      at(span * (0.3 + (0.5 * i) / Math.max(1, options.pauses)), async () => {
        const member = members.get(pick());
        if (!member || member.paused) return;
        record('pause', member);
        member.process.signal('SIGSTOP');
        member.paused = true;
        options.print(`  t=${elapsed()}s SIGSTOP bullmq worker ${member.slot} for ${options.lockTtlMs * 2} ms`);
        await sleep(options.lockTtlMs * 2);
        member.process.signal('SIGCONT');
        member.paused = false;
      });
    }
    for (let i = 0; i < options.redisRestarts; i += 1) {
      at(span * (0.5 + 0.3 * i), async () => {
        record('redis_restart');
        await stack.infra.redis.restart({ wipe: options.redisWipe });
        options.print(`  t=${elapsed()}s redis restarted ${options.redisWipe ? 'with its data gone' : 'with its data (in-sync failover)'}`);
      });
    }
    at(span * 0.6, async () => {
      const slot = options.workers + 1;
      record('join', await startWorker(slot));
      options.print(`  t=${elapsed()}s bullmq worker ${slot} joins`);
    });
    at(span * 0.85, async () => {
      const member = members.get(1);
      if (!member) return;
      record('leave', member);
      options.print(`  t=${elapsed()}s bullmq worker 1 leaves (close, drain)`);
      members.delete(1);
      await member.process.close(30_000);
    });
    await Promise.all(work);
    let counts: Record<string, number> = {};
    while (Date.now() - started < options.deadlineS * 1000) {
      try {
        counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed');
      } catch {
        await sleep(1000);
        continue;
      }
      const open = (counts['waiting'] ?? 0) + (counts['active'] ?? 0) + (counts['delayed'] ?? 0) + (counts['prioritized'] ?? 0);
      options.print(`  t=${elapsed()}s bullmq open ${open}, completed ${counts['completed'] ?? 0}, failed ${counts['failed'] ?? 0}; llm in flight ${stack.llm.inFlightCount()}`);
      if (open === 0 && stack.llm.inFlightCount() === 0) break;
      await sleep(2000);
    }
    const llm = stack.llm.stats();
    const recordStats = stack.records.stats();
    let completedIds = new Set<string>();
    try {
      completedIds = new Set(readFileSync(completedLog, 'utf8').split('\n').filter(Boolean));
    } catch {
      // No completion at all.
    }
    const failedNow = counts['failed'] ?? 0;
    return {
      jobs: ids.size,
      submissions: workload.submissions.length,
      kills: faults.filter((f) => f.kind === 'kill').length,
      pauses: faults.filter((f) => f.kind === 'pause').length,
      redis_restarts: faults.filter((f) => f.kind === 'redis_restart').length,
      redis_wipe: options.redisWipe,
      completed: [...ids].filter((id) => completedIds.has(id)).length,
      failed: failedNow,
      lost: Math.max(0, [...ids].filter((id) => !completedIds.has(id)).length - failedNow),
      stalled_events: stalled,
      llm_calls: llm.calls,
      writebacks: recordStats.writebacks,
      duplicate_writebacks: recordStats.duplicateWritebacks,
      stale_writebacks: recordStats.staleWritebacks,
      duplicate_llm_calls: llm.duplicateCalls,
      duplicate_llm_completions: llm.duplicateCompletions,
      inflight_at_faults: faults.reduce((sum, f) => sum + f.llmInFlight, 0),
      elapsed_ms: Date.now() - started,
    };
  } finally {
    await Promise.all([...members.values()].map(async (member) => {
      if (member.paused) member.process.signal('SIGCONT');
      await member.process.close(10_000);
    }));
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    connection.disconnect();
    eventsConnection.disconnect();
    await stack.stop();
  }
}
