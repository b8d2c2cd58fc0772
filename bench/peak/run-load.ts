/**
 * Open-loop load against ONE bench supervisor process (supervisor-entry.ts) on the local stack:
 * one or more streams of submissions at fixed rates, freshness taken at the record store (write
 * time − submission time), the supervisor's own figures (event-loop delay, RSS, jobs in flight)
 * over IPC, and every process's CPU from /proc. Shared by bench:peak and bench:pressure.
 */
import { fork } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startLocalStack } from '../../src/stack/local-stack.ts';
import { benchRecord } from '../common/bench-workload.ts';
import { CpuLedger } from '../common/proc-stats.ts';
import { PROFILER_PRELOAD, writeJson } from '../common/stack-helpers.ts';
import { summarizeProfiles, type ProfileSummary } from '../common/cpu-profile-summary.ts';
import { percentile, round, sleep } from '../common/stats.ts';
import { WriteTap } from '../common/write-tap.ts';
import { SupervisorProcess, type FinalMessage } from './supervisor-process.ts';
import type { TickMessage } from './supervisor-entry.ts';

export interface Stream {
  name: string;
  /** Record-id prefix; distinct per stream so write-backs map back to their stream. */
  prefix: string;
  rate: number;
  startS: number;
  durationS: number;
  priority: 'interactive' | 'bulk';
  contextBytes: number;
}

export interface LoadOptions {
  label: string;
  mode: 'stack' | 'fakes';
  streams: Stream[];
  partitions: number;
  concurrency: number;
  timeScale: number;
  timeoutRate: number;
  drainTimeoutS: number;
  workDir: string;
  logLevel: string;
  /** Profile the supervisor's main thread (cpu-profiler-preload.mjs) and summarize the load window. */
  profile?: boolean;
  /** Extra config changes (limiter settings...). */
  configOverrides?: (config: Record<string, any>) => void;
  print: (line: string) => void;
}

export interface StreamResult {
  name: string;
  priority: string;
  rate: number;
  scheduled: number;
  submitted: number;
  written: number;
  unfinished: number;
  freshness_p50_ms: number;
  freshness_p95_ms: number;
  freshness_p99_ms: number;
  freshness_max_ms: number;
  /** Freshness of the jobs submitted while every stream was on (for pressure comparisons). */
  submit_lag_max_ms: number;
}

/** The busiest non-main thread's CPU share between two ticks (the CPU pool's thread, at load). */
function poolShare(from: TickMessage | undefined, to: TickMessage | undefined): string {
  if (!from || !to || to.at <= from.at) return '?';
  let busiest = 0;
  for (const [tid, us] of Object.entries(to.otherThreadsCpuUs)) busiest = Math.max(busiest, us - (from.otherThreadsCpuUs[tid] ?? us));
  return `${Math.round((busiest / ((to.at - from.at) * 1000)) * 100)}%`;
}

export interface LoadResult {
  label: string;
  mode: string;
  streams: StreamResult[];
  max_in_flight: number;
  max_llm_in_flight: number;
  rss_max_mb: number;
  heap_used_max_mb: number;
  external_max_mb: number;
  loop_delay_p50_ms: number;
  loop_delay_p99_ms: number;
  loop_delay_max_ms: number;
  loop_delay_p99_worst_interval_ms: number;
  /** While submissions run: the figure the target applies to. */
  loop_delay_p99_load_ms: number;
  loop_delay_max_load_ms: number;
  elu_mean: number;
  supervisor_cpu_us_per_job: number;
  /** During the submission window: cores the supervisor process used, and its main thread's share of one core. */
  load_window_process_cores: number;
  load_window_main_thread_share: number;
  /** The busiest non-main thread (the CPU pool's worker, normally): its share of one core in the load window. */
  load_window_busiest_other_thread_share: number;
  terminal: Record<string, number>;
  errors: { failed: number; dead_lettered: number; submit_errors: number; log_errors: number; log_warnings: number };
  llm: { calls: number; by_status: Record<string, number>; injected_timeouts: number };
  cpu_share: Record<string, number>;
  machine_busy_share: number;
  wall_s: number;
  final: FinalMessage;
  profile?: ProfileSummary;
  /** Supervisor CPU in the load window / jobs finished in it (what the profile shares apply to). */
  profile_cpu_us_per_job_in_window?: number;
}

async function countLogLevels(file: string): Promise<{ errors: number; warnings: number }> {
  let errors = 0;
  let warnings = 0;
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.includes('"level":50') || line.includes('"level":60')) errors += 1;
      else if (line.includes('"level":40')) warnings += 1;
    }
  } catch {
    // No log.
  }
  return { errors, warnings };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const dir = join(options.workDir, options.label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { print } = options;
  const stack = await startLocalStack({
    partitions: options.partitions,
    timeScale: options.timeScale,
    timeoutRate: options.timeoutRate,
    mode: 'child',
    configOverrides: (config) => {
      config['metrics'] = { output: join(dir, 'metrics.emf'), flushIntervalMs: 10_000 };
      config['actor'] = { concurrency: options.concurrency };
      config['log'] = { level: options.logLevel };
      config['queues'] = { ...config['queues'], waitTimeS: 20 };
      // The default of 1,024 keep-alive connections per origin would cap LLM calls in flight
      // below what Little's law asks for at peak (417/s x ~7 s mean ≈ 2,900).
      config['llm'] = { ...config['llm'], connections: 8192 };
      options.configOverrides?.(config);
    },
  });
  const tap = new WriteTap(stack.records);
  const configPath = stack.writeConfig(join(dir, 'config.json'));
  const streams = options.streams.map((stream) => ({
    ...stream,
    scheduled: Math.floor(stream.rate * stream.durationS),
    submitAt: new Float64Array(Math.floor(stream.rate * stream.durationS)),
    lagMax: 0,
    sent: 0,
    submitted: 0,
    errors: 0,
  }));
  for (const stream of streams) {
    for (let i = 0; i < stream.scheduled; i += 1) {
      const record = benchRecord(stream.prefix, i);
      stack.records.putRecord(record.base_id, record.table_id, record.record_id, record.fields);
    }
  }
  // Stack mode: the submitter runs in its own process (its SDK calls would starve the simulators
  // that live in this one).
  const submitter = options.mode === 'stack' ? await startSubmitter(configPath, join(dir, 'submitter.log'), options.streams) : undefined;
  const logFile = join(dir, 'supervisor.log');
  const profileDir = join(dir, 'cpu-profile');
  const supervisor = await SupervisorProcess.start(
    { configPath, id: `bench-${options.label}`, mode: options.mode, reportMs: 1000, logFile, contextBytes: 0, prefix: 'P' },
    options.profile ? { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${PROFILER_PRELOAD}`.trim(), BENCH_CPU_PROF_DIR: profileDir } : {},
  );
  const ledger = new CpuLedger(
    new Map([
      ['driver (sim LLM + record store)', process.pid],
      ...(submitter ? ([['submitter (ingest path)', submitter.pid]] as Array<[string, number]>) : []),
      ['dynalite', stack.infra.dynalite.pid],
      ['fauxqs', stack.infra.fauxqs.pid],
      ['redis-server', stack.infra.redis.pid],
      ['warden supervisor', supervisor.pid],
    ]),
  );
  let maxLlmInFlight = 0;
  const written = (stream: (typeof streams)[number]) => {
    let n = 0;
    for (let i = 0; i < stream.sent; i += 1) if (tap.firstWrite.has(benchRecord(stream.prefix, i).record_id)) n += 1;
    return n;
  };
  try {
    ledger.mark();
    const t0 = Date.now();
    submitter?.start(t0);
    supervisor.window(true);
    const loadFromUs = Number(process.hrtime.bigint() / 1000n);
    const end = Math.max(...streams.map((s) => s.startS + s.durationS)) * 1000;
    let lastPrint = t0;
    let printedTick: TickMessage | undefined;
    print(`${options.label}: ${options.mode} mode, supervisor pid ${supervisor.pid}, ${options.partitions} partitions x ${options.concurrency} slots; ` +
      streams.map((s) => `${s.name} ${s.rate}/s (${s.priority}) from ${s.startS}s for ${s.durationS}s`).join('; '));
    // Open loop: submissions follow the clock, not the system's answers (bounded outstanding).
    for (;;) {
      const now = Date.now();
      const elapsed = now - t0;
      for (const stream of streams) {
        const due = Math.min(stream.scheduled, Math.max(0, Math.floor(((elapsed - stream.startS * 1000) / 1000) * stream.rate)));
        if (options.mode === 'fakes') {
          if (due > stream.sent) {
            for (let i = stream.sent; i < due; i += 1) stream.submitAt[i] = now;
            supervisor.submit(stream, stream.sent, due);
            stream.sent = due;
          }
          continue;
        }
        stream.sent = submitter?.sent[streams.indexOf(stream)] ?? stream.sent;
      }
      maxLlmInFlight = Math.max(maxLlmInFlight, stack.llm.inFlightCount());
      if (now - lastPrint >= 10_000) {
        lastPrint = now;
        const tick = supervisor.last;
        print(`  t=${Math.round(elapsed / 1000)}s sent ${streams.map((s) => s.sent).join('+')} written ${tap.firstWrite.size} ` +
          `in flight ${tick?.inFlight ?? '?'} llm ${stack.llm.inFlightCount()} rss ${Math.round((tick?.rss ?? 0) / 1048576)} MB ` +
          `loop p99 ${tick?.loopP99Ms ?? '?'} ms elu ${tick?.elu ?? '?'} pool ${poolShare(printedTick, tick)} pool queue ${tick?.cpuQueued ?? '?'}` +
          `${tick?.queueDepth !== undefined ? ` queued ${tick.queueDepth}` : ''}`);
        printedTick = tick;
      }
      if (elapsed >= end) break;
      await sleep(10);
    }
    const loadToUs = Number(process.hrtime.bigint() / 1000n);
    supervisor.window(false);
    const submitted = submitter ? await submitter.done : undefined;
    if (submitted) {
      streams.forEach((stream, k) => {
        const at = submitted.submitAt[k] ?? [];
        stream.sent = at.length;
        for (let i = 0; i < at.length; i += 1) stream.submitAt[i] = at[i] as number;
        stream.lagMax = submitted.lagMax[k] ?? 0;
        stream.errors = submitted.errors[k] ?? 0;
        stream.submitted = submitted.submitted[k] ?? 0;
      });
    }
    const windowTicks = supervisor.ticks.filter((t) => t.at >= t0);
    const firstTick = windowTicks[0];
    const lastTick = windowTicks.at(-1);
    const windowMs = firstTick && lastTick ? lastTick.at - firstTick.at : 0;
    const loadCores = windowMs > 0 ? (lastTick!.cpuUs - firstTick!.cpuUs) / (windowMs * 1000) : 0;
    const loadMain = windowMs > 0 ? (lastTick!.mainThreadCpuUs - firstTick!.mainThreadCpuUs) / (windowMs * 1000) : 0;
    let loadOther = 0;
    if (windowMs > 0) {
      for (const [tid, us] of Object.entries(lastTick!.otherThreadsCpuUs)) {
        loadOther = Math.max(loadOther, (us - (firstTick!.otherThreadsCpuUs[tid] ?? 0)) / (windowMs * 1000));
      }
    }
    const loadCpuUs = (supervisor.last?.cpuUs ?? 0) - (supervisor.ticks.find((t) => t.at >= t0)?.cpuUs ?? 0);
    const loadJobs = supervisor.last ? Object.values(supervisor.last.terminal).reduce((a, b) => a + b, 0) : 0;
    // Drain: wait for every sent job to be written (or to end otherwise), bounded.
    const totalSent = () => streams.reduce((sum, s) => sum + s.sent, 0);
    const drainDeadline = Date.now() + options.drainTimeoutS * 1000;
    print(`${options.label}: submissions done (${totalSent()}); draining for up to ${options.drainTimeoutS} s`);
    while (Date.now() < drainDeadline) {
      const tick = supervisor.last;
      const ended = tick ? Object.entries(tick.terminal).filter(([state]) => state !== 'succeeded').reduce((a, [, n]) => a + n, 0) : 0;
      if (tap.firstWrite.size + ended >= totalSent()) break;
      maxLlmInFlight = Math.max(maxLlmInFlight, stack.llm.inFlightCount());
      if (Date.now() - lastPrint >= 10_000) {
        lastPrint = Date.now();
        print(`  drain: written ${tap.firstWrite.size}/${totalSent()} in flight ${tick?.inFlight ?? '?'} llm ${stack.llm.inFlightCount()}`);
      }
      await sleep(200);
    }
    const cpu = ledger.read();
    const final = await supervisor.final();
    const maxInFlight = Math.max(0, ...supervisor.ticks.map((t) => t.inFlight));
    const ticks = supervisor.ticks;
    // Every 1 s report of the supervisor, for reading a run afterwards (where did it stall?).
    writeFileSync(join(dir, 'ticks.jsonl'), `${ticks.map((t) => JSON.stringify(t)).join('\n')}\n`);
    const streamResults: StreamResult[] = streams.map((stream) => {
      const fresh: number[] = [];
      for (let i = 0; i < stream.sent; i += 1) {
        const at = tap.firstWrite.get(benchRecord(stream.prefix, i).record_id);
        if (at !== undefined) fresh.push(at - (stream.submitAt[i] as number));
      }
      fresh.sort((a, b) => a - b);
      const w = written(stream);
      return {
        name: stream.name,
        priority: stream.priority,
        rate: stream.rate,
        scheduled: stream.scheduled,
        submitted: options.mode === 'fakes' ? stream.sent : stream.submitted,
        written: w,
        unfinished: stream.sent - w,
        freshness_p50_ms: percentile(fresh, 50),
        freshness_p95_ms: percentile(fresh, 95),
        freshness_p99_ms: percentile(fresh, 99),
        freshness_max_ms: fresh.at(-1) ?? 0,
        submit_lag_max_ms: Math.round(stream.lagMax),
      };
    });
    const logs = await countLogLevels(logFile);
    const llm = stack.llm.stats();
    const jobsDone = Object.values(final.terminal).reduce((a, b) => a + b, 0);
    const result: LoadResult = {
      label: options.label,
      mode: options.mode,
      streams: streamResults,
      max_in_flight: maxInFlight,
      max_llm_in_flight: maxLlmInFlight,
      rss_max_mb: Math.round(final.maxRss / 1048576),
      heap_used_max_mb: Math.round(Math.max(0, ...ticks.map((t) => t.heapUsed)) / 1048576),
      external_max_mb: Math.round(Math.max(0, ...ticks.map((t) => t.external)) / 1048576),
      loop_delay_p50_ms: final.loopP50Ms,
      loop_delay_p99_ms: final.loopP99Ms,
      loop_delay_max_ms: final.loopMaxMs,
      loop_delay_p99_worst_interval_ms: Math.max(0, ...ticks.map((t) => t.loopP99Ms)),
      loop_delay_p99_load_ms: final.loadLoopP99Ms,
      loop_delay_max_load_ms: final.loadLoopMaxMs,
      elu_mean: round(ticks.reduce((a, t) => a + t.elu, 0) / Math.max(1, ticks.length), 3),
      load_window_process_cores: round(loadCores, 2),
      load_window_main_thread_share: round(loadMain, 2),
      load_window_busiest_other_thread_share: round(loadOther, 2),
      supervisor_cpu_us_per_job: jobsDone > 0 ? Math.round((cpu.perProcessUs['warden supervisor'] ?? 0) / jobsDone) : 0,
      terminal: final.terminal,
      errors: {
        failed: final.terminal['failed'] ?? 0,
        dead_lettered: final.terminal['dead_lettered'] ?? 0,
        submit_errors: streams.reduce((a, s) => a + s.errors, 0) + (supervisor.last?.submitErrors ?? 0),
        log_errors: logs.errors,
        log_warnings: logs.warnings,
      },
      llm: { calls: llm.calls, by_status: llm.byStatus, injected_timeouts: llm.injected.timeout },
      cpu_share: Object.fromEntries(Object.entries(cpu.perProcessUs).map(([name, us]) => [name, round(us / (cpu.wallMs * 1000 * cpu.cores), 3)])),
      machine_busy_share: round(cpu.machineBusyUs / cpu.machineCapacityUs, 3),
      wall_s: Math.round(cpu.wallMs / 1000),
      final,
    };
    if (options.profile) {
      await supervisor.stop();
      result.profile = summarizeProfiles(profileDir, { fromUs: loadFromUs, toUs: loadToUs });
      result.profile_cpu_us_per_job_in_window = loadJobs > 0 ? Math.round(loadCpuUs / loadJobs) : 0;
    }
    writeJson(join(dir, 'ticks.json'), ticks);
    writeJson(join(dir, 'result.json'), result);
    return result;
  } finally {
    await supervisor.stop();
    submitter?.kill();
    await stack.stop();
  }
}

const SUBMITTER = fileURLToPath(new URL('./submitter-entry.ts', import.meta.url));

interface SubmitterDone {
  submitAt: number[][];
  lagMax: number[];
  errors: number[];
  submitted: number[];
}

async function startSubmitter(configPath: string, logFile: string, streams: Stream[]) {
  const child = fork(SUBMITTER, [JSON.stringify({ configPath, logFile, streams, maxOutstanding: 2048 })], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const sent = streams.map(() => 0);
  let resolveDone: (done: SubmitterDone) => void = () => undefined;
  const done = new Promise<SubmitterDone>((resolve) => (resolveDone = resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('submitter did not start')), 60_000);
    child.on('message', (message: { type: string; sent?: number[] } & SubmitterDone) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (message.type === 'progress' && message.sent) message.sent.forEach((n, k) => (sent[k] = n));
      else if (message.type === 'done') resolveDone(message);
    });
  });
  return {
    sent,
    done,
    pid: child.pid ?? -1,
    start: (t0: number) => child.send({ type: 'start', t0 }),
    kill: () => child.kill('SIGKILL'),
  };
}
