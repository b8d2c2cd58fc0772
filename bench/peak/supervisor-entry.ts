/**
 * Bench-only supervisor process: the same Supervisor and createRuntime as `warden supervisor`,
 * plus what cannot be seen from outside: the event-loop delay (monitorEventLoopDelay), event-loop
 * utilization, RSS and heap, the jobs in flight in its actors, and the terminal states its jobs
 * reach. Reported over IPC every `reportMs`.
 *
 *   fork('supervisor-entry.ts', [JSON.stringify({configPath, id, mode, reportMs, logFile, contextBytes})])
 *
 * mode 'stack': the runtime's own adapters (DynamoDB, SQS, S3 on the emulators).
 * mode 'fakes': checkpoints, partition queues, payloads, dead letters and the access log in memory
 *   (fake-ports.ts);
 *   Redis (leases, limiter, breaker), the LLM and the record store stay real. Jobs are submitted
 *   inside this process when the driver sends {type:'submit', from, to, priority?}: request i is
 *   benchRequest(benchRecord(prefix, i)), built on an injector thread (injector-thread.ts).
 * IPC in: {type:'final'} → {type:'final', ...whole-run figures}; {type:'stop'} drains and exits.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import type { JobRecord } from '../../src/jobs/job-record.ts';
import { isTerminal } from '../../src/jobs/job-states.ts';
import type { CheckpointStore } from '../../src/runtime/checkpoint-store.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import { contextPool } from '../common/bench-workload.ts';
import type { InjectedJob, InjectRequest } from './injector-thread.ts';
import { threadCpuUs } from '../common/proc-stats.ts';
import { FakeAccessLog, FakeCheckpointStore, FakeDeadLetterSink, FakePartitionQueue, FakePayloadStore } from './fake-ports.ts';

export interface EntryArgs {
  configPath: string;
  id: string;
  mode: 'stack' | 'fakes';
  reportMs: number;
  logFile: string;
  /** fakes mode: prompt context size of submitted jobs (0 = none). */
  contextBytes: number;
  /** fakes mode: record id prefix of submitted jobs. */
  prefix: string;
}

export interface TickMessage {
  type: 'tick';
  at: number;
  rss: number;
  heapUsed: number;
  /** Memory outside the JS heap: Buffers and other C++ objects tied to JS (arrayBuffers included). */
  external: number;
  loopP99Ms: number;
  loopMaxMs: number;
  elu: number;
  inFlight: number;
  cpuUs: number;
  /** CPU of the main thread alone (the event loop); the rest is the CPU pool and V8/libuv helpers. */
  mainThreadCpuUs: number;
  /** The busiest other threads (CPU pool worker, V8 GC helpers, libuv), cumulative CPU µs by tid. */
  otherThreadsCpuUs: Record<string, number>;
  terminal: Record<string, number>;
  submitted: number;
  submitErrors: number;
  queueDepth?: number;
  /** Tasks waiting for the CPU pool (renders and checks not yet handed to its thread). */
  cpuQueued: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as EntryArgs;
if (typeof process.send !== 'function') {
  console.error('supervisor-entry: needs an IPC channel (fork)');
  process.exit(2);
}
const send = (message: unknown) => process.send?.(message);

const config = loadConfig(args.configPath);
const log = createLogger({ level: config.log.level, service: config.service, destination: pino.destination({ dest: args.logFile, sync: false }) });
const real = await createRuntime(config, { member: args.id, log });
const terminal: Record<string, number> = {};
/**
 * Where a succeeded job's time went, from its audit trail: to start (creation → the last 'start':
 * waiting in the queue, record check, context read, prompt preparation on the CPU pool, breaker
 * and limiter), LLM (last start → generate) and write-back (generate → write).
 */
const stages: Record<'to_start' | 'llm' | 'write_back', number[]> = { to_start: [], llm: [], write_back: [] };
const MAX_STAGE_SAMPLES = 400_000;
function noteTerminal(job: JobRecord): void {
  terminal[job.state] = (terminal[job.state] ?? 0) + 1;
  if (job.state !== 'succeeded' || stages.llm.length >= MAX_STAGE_SAMPLES) return;
  const last = (event: string) => {
    const line = job.audit.filter((entry) => entry.event === event).at(-1);
    return line ? Date.parse(line.at) : undefined;
  };
  const start = last('start');
  const generate = last('generate');
  const write = last('write');
  if (start === undefined || generate === undefined || write === undefined) return;
  stages.to_start.push(start - Date.parse(job.created_at));
  stages.llm.push(generate - start);
  stages.write_back.push(write - generate);
}
function stageSummary() {
  const out: Record<string, { p50: number; p95: number; p99: number }> = {};
  for (const [name, values] of Object.entries(stages)) {
    const sorted = [...values].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
    out[name] = { p50: q(50), p95: q(95), p99: q(99) };
  }
  return out;
}

let runtime: RuntimeContext = real;
let fakes: { checkpoints: FakeCheckpointStore; queues: FakePartitionQueue[]; deadLetters: FakeDeadLetterSink; payloads: FakePayloadStore } | undefined;
if (args.mode === 'fakes') {
  const checkpoints = new FakeCheckpointStore();
  checkpoints.onTerminal = noteTerminal;
  const queues = Array.from({ length: config.partitions }, () => new FakePartitionQueue(config.queues.visibilityTimeoutS));
  const deadLetters = new FakeDeadLetterSink();
  const payloads = new FakePayloadStore();
  fakes = { checkpoints, queues, deadLetters, payloads };
  runtime = {
    ...real,
    checkpoints,
    payloads,
    deadLetters,
    accessLog: new FakeAccessLog(),
    queueFor: (partition: number) => {
      const queue = queues[partition];
      if (!queue) throw new RangeError(`no partition ${partition}`);
      return queue;
    },
  };
} else {
  // Count terminal states as they are written: a decorator on the port, nothing else changes.
  const inner = real.checkpoints;
  const counted: CheckpointStore = {
    create: (job) => inner.create(job),
    get: (id) => inner.get(id),
    listUnfinished: (partition, limit) => inner.listUnfinished(partition, limit),
    async transition(id, request) {
      const job = await inner.transition(id, request);
      if (isTerminal(job.state)) noteTerminal(job);
      return job;
    },
  };
  runtime = { ...real, checkpoints: counted };
}

const supervisor = new Supervisor(runtime, { id: args.id });
await supervisor.start();

// Submissions inside this process (fakes mode only): the driver names the indices. A worker
// thread (injector-thread.ts) builds the job items and messages as the ingest API leaves them;
// this thread stores them in the in-memory ports. Validation, hashing and the record build happen
// in the API's process in production, not on the supervisor's event loop.
let submitted = 0;
let submitErrors = 0;
const contextPools = new Map<number, Array<{ body: Buffer; digest: string }>>();
const contextsOf = (bytes: number) => {
  if (bytes <= 0) return [];
  let pool = contextPools.get(bytes);
  if (!pool) {
    pool = contextPool(bytes).map((text) => {
      const body = Buffer.from(text, 'utf8');
      return { body, digest: createHash('sha256').update(body).digest('hex') };
    });
    contextPools.set(bytes, pool);
  }
  return pool;
};
interface SubmitMessage {
  type?: string;
  from?: number;
  to?: number;
  prefix?: string;
  contextBytes?: number;
  priority?: 'interactive' | 'bulk';
}
const injector = args.mode === 'fakes' ? new Worker(new URL('./injector-entry.mjs', import.meta.url)) : undefined;
injector?.unref();
async function store(injected: InjectedJob, contexts: Array<{ body: Buffer; digest: string }>): Promise<void> {
  if (!fakes) throw new Error('injection is for fakes mode');
  const { job } = injected;
  const context = contexts[injected.context];
  if (context && job.context_ref) fakes.payloads.putKnown(job.context_ref.key, context.digest, context.body);
  await fakes.checkpoints.create(job);
  await (fakes.queues[job.partition] as FakePartitionQueue).send(injected.body);
}
injector?.on('message', (message: { contextBytes: number; jobs: InjectedJob[] }) => {
  const contexts = contextsOf(message.contextBytes);
  for (const injected of message.jobs) {
    store(injected, contexts).then(
      () => (submitted += 1),
      (error) => {
        submitErrors += 1;
        if (submitErrors <= 5) log.error({ err: error }, 'bench submission failed');
      },
    );
  }
});
process.on('message', (message: SubmitMessage) => {
  if (message?.type === 'submit' && typeof message.from === 'number' && typeof message.to === 'number' && injector) {
    const contextBytes = message.contextBytes ?? args.contextBytes;
    const request: InjectRequest = { from: message.from, to: message.to, prefix: message.prefix ?? args.prefix, contextBytes, priority: message.priority ?? 'interactive', partitions: config.partitions };
    injector.postMessage(request);
  }
});

const interval = monitorEventLoopDelay({ resolution: 10 });
const whole = monitorEventLoopDelay({ resolution: 10 });
// The load window alone (opened and closed by the driver): the whole run's figure is diluted by
// the idle start and drain.
const underLoad = monitorEventLoopDelay({ resolution: 10 });
interval.enable();
whole.enable();
process.on('message', (message: { type?: string; open?: boolean }) => {
  if (message?.type !== 'window') return;
  if (message.open) underLoad.enable();
  else underLoad.disable();
});
let elu = performance.eventLoopUtilization();
let maxRss = 0;
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
const cpuUs = () => {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
};
function otherThreads(): Record<string, number> {
  const out: Array<[string, number]> = [];
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      if (Number(tid) === process.pid) continue;
      const us = threadCpuUs(process.pid, Number(tid)) ?? 0;
      if (us > 0) out.push([tid, us]);
    }
  } catch {
    // Not Linux.
  }
  return Object.fromEntries(out.sort((a, b) => b[1] - a[1]).slice(0, 4));
}
const timer = setInterval(() => {
  const memory = process.memoryUsage();
  maxRss = Math.max(maxRss, memory.rss);
  const now = performance.eventLoopUtilization();
  const delta = performance.eventLoopUtilization(now, elu);
  elu = now;
  const tick: TickMessage = {
    type: 'tick',
    at: Date.now(),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
    loopP99Ms: ms(interval.percentile(99)),
    loopMaxMs: ms(interval.max),
    elu: Math.round(delta.utilization * 1000) / 1000,
    inFlight: supervisor.owned.reduce((sum, slot) => sum + slot.inFlight, 0),
    cpuUs: cpuUs(),
    mainThreadCpuUs: threadCpuUs(process.pid, process.pid) ?? 0,
    otherThreadsCpuUs: otherThreads(),
    terminal: { ...terminal },
    submitted,
    submitErrors,
    cpuQueued: real.cpu().queued,
    ...(fakes ? { queueDepth: fakes.queues.reduce((sum, q) => sum + q.depth, 0) } : {}),
  };
  interval.reset();
  send(tick);
}, args.reportMs);

let stopping = false;
process.on('message', async (message: { type?: string }) => {
  if (message?.type === 'final') {
    send({
      type: 'final',
      loopP50Ms: ms(whole.percentile(50)),
      loopP99Ms: ms(whole.percentile(99)),
      loopP999Ms: ms(whole.percentile(99.9)),
      loopMaxMs: ms(whole.max),
      loadLoopP99Ms: ms(underLoad.percentile(99)),
      loadLoopMaxMs: ms(underLoad.max),
      maxRss,
      cpuUs: cpuUs(),
      terminal: { ...terminal },
      deadLetters: fakes?.deadLetters.counts ?? null,
      jobsInMemory: fakes?.checkpoints.size ?? null,
      stagesMs: stageSummary(),
    });
  }
  if (message?.type === 'stop' && !stopping) {
    stopping = true;
    clearInterval(timer);
    await supervisor.stop(5000).catch(() => undefined);
    fakes?.checkpoints.close();
    for (const queue of fakes?.queues ?? []) queue.close();
    await real.close().catch(() => undefined);
    send({ type: 'stopped' });
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
