/**
 * bench:peak — the peak day against ONE supervisor: 417 jobs/s (25,000 a minute) with 64 KB
 * prompt context, simulated LLM latency P50 4 s / P95 20 s with 1% of calls hanging 60 s.
 *
 *   node --import tsx bench/bench-peak.ts [--seconds 300] [--rate 417] [--mode fakes|stack|both]
 *     [--context-bytes 65536] [--partitions 8] [--concurrency 500] [--drain 180]
 *     [--log-level info] [--work-dir .warden/bench-peak] [--niceness 0-19]
 *
 * The supervisor runs in its own process (peak/supervisor-entry.ts: the real Supervisor and
 * createRuntime, plus an event-loop delay monitor and RSS reported over IPC).
 *   stack: the full local stack; jobs submitted by this process through the ingest path
 *          (submitJob: S3 put, conditional PutItem, SendMessage) against dynalite and fauxqs.
 *   fakes: the same supervisor with DynamoDB, SQS and S3 replaced by in-memory ports
 *          (peak/fake-ports.ts), jobs submitted inside its process; Redis, the simulated LLM and
 *          record store stay real. The difference between the two is what the emulators cost.
 * Freshness is submission → write-back landing at the simulated record store. Targets (issue 6):
 * freshness P99 < 2 min, RSS < 1 GiB, event-loop delay P99 < 50 ms. Last line: one JSON object.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage } from './common/proc-stats.ts';
import { gitState } from './common/stack-helpers.ts';
import { positiveOption, round, table } from './common/stats.ts';
import { runLoad, type LoadResult } from './peak/run-load.ts';
import { profileMarkdown } from './common/cpu-profile-summary.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    rate: { type: 'string' },
    mode: { type: 'string' },
    'context-bytes': { type: 'string' },
    partitions: { type: 'string' },
    concurrency: { type: 'string' },
    drain: { type: 'string' },
    'time-scale': { type: 'string' },
    'log-level': { type: 'string' },
    'work-dir': { type: 'string' },
    profile: { type: 'boolean' },
    niceness: { type: 'string' },
  },
});
const SECONDS = positiveOption('seconds', values.seconds, 300);
const RATE = positiveOption('rate', values.rate, 417);
const MODE = values.mode ?? 'both';
const CONTEXT_BYTES = Number(values['context-bytes'] ?? 64 * 1024);
const PARTITIONS = positiveOption('partitions', values.partitions, 8, true);
// Slots per partition. Little's law: 417/s x ~7 s mean time in the system (LLM mean ~6.5 s, 1%
// of calls held 60 s) is ~3,000 jobs in flight; 8 x 500 leaves a third more. Beyond the slots,
// jobs wait in their queues, which hold them for nothing, not in the supervisor's memory.
const CONCURRENCY = positiveOption('concurrency', values.concurrency, 500, true);
const DRAIN_S = positiveOption('drain', values.drain, 180);
const TIME_SCALE = positiveOption('time-scale', values['time-scale'], 1);
const LOG_LEVEL = values['log-level'] ?? 'info';
// The CPU pool's thread priority (config cpu.niceness); unset: the config default.
const NICENESS = values.niceness === undefined ? undefined : Number(values.niceness);
if (NICENESS !== undefined && !(Number.isInteger(NICENESS) && NICENESS >= 0 && NICENESS <= 19)) throw new Error(`--niceness must be an integer 0-19, got ${values.niceness}`);
const DIR = resolve(values['work-dir'] ?? '.warden/bench-peak');
if (!['fakes', 'stack', 'both'].includes(MODE)) throw new Error(`--mode must be fakes, stack or both, got ${MODE}`);

const print = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const load0 = loadAverage();
const modes = MODE === 'both' ? (['fakes', 'stack'] as const) : ([MODE] as Array<'fakes' | 'stack'>);
const results: LoadResult[] = [];
for (const mode of modes) {
  results.push(
    await runLoad({
      label: `peak-${mode}`,
      mode,
      streams: [{ name: 'peak', prefix: 'P', rate: RATE, startS: 0, durationS: SECONDS, priority: 'interactive', contextBytes: CONTEXT_BYTES }],
      partitions: PARTITIONS,
      concurrency: CONCURRENCY,
      timeScale: TIME_SCALE,
      timeoutRate: 0.01,
      drainTimeoutS: DRAIN_S,
      workDir: DIR,
      logLevel: LOG_LEVEL,
      profile: Boolean(values.profile),
      // The provider limits of a peak day must fit it: the limiter is on its path, not the limit.
      configOverrides: (config) => {
        config['limiter'] = { ...config['limiter'], rpm: 1_000_000, tpm: 9_000_000_000 };
        if (NICENESS !== undefined) config['cpu'] = { ...(config['cpu'] as object | undefined), niceness: NICENESS };
      },
      print,
    }),
  );
}

const s = (r: LoadResult) => r.streams[0]!;
const stage = (r: LoadResult, name: string) => {
  const st = r.final.stagesMs[name];
  return st ? `${round(st.p50 / 1000, 2)} / ${round(st.p99 / 1000, 2)}` : '-';
};
print('');
print(`peak day: ${RATE} jobs/s for ${SECONDS} s, ${CONTEXT_BYTES} B context, LLM P50 ${4 * TIME_SCALE} s / P95 ${20 * TIME_SCALE} s, 1% hang ${60 * TIME_SCALE} s; ` +
  `${PARTITIONS} partitions x ${CONCURRENCY} slots; load average before ${load0.join(' ')}`);
print(table([
  ['', ...results.map((r) => r.mode)],
  ['submitted', ...results.map((r) => s(r).submitted)],
  ['written back', ...results.map((r) => s(r).written)],
  ['unfinished at the end', ...results.map((r) => s(r).unfinished)],
  ['achieved write rate /s', ...results.map((r) => round(s(r).written / SECONDS, 1))],
  ['freshness P50 s', ...results.map((r) => round(s(r).freshness_p50_ms / 1000, 1))],
  ['freshness P95 s', ...results.map((r) => round(s(r).freshness_p95_ms / 1000, 1))],
  ['freshness P99 s (target < 120)', ...results.map((r) => round(s(r).freshness_p99_ms / 1000, 1))],
  ['max jobs in flight (actor slots)', ...results.map((r) => r.max_in_flight)],
  ['max LLM calls in flight', ...results.map((r) => r.max_llm_in_flight)],
  ['supervisor RSS max MB (< 1024)', ...results.map((r) => r.rss_max_mb)],
  ['  JS heap used max MB', ...results.map((r) => r.heap_used_max_mb)],
  ['  external (Buffers) max MB', ...results.map((r) => r.external_max_mb)],
  ['event-loop delay P99 ms, under load (< 50)', ...results.map((r) => r.loop_delay_p99_load_ms)],
  ['  max ms under load', ...results.map((r) => r.loop_delay_max_load_ms)],
  ['  whole run P99 ms (with start and drain)', ...results.map((r) => r.loop_delay_p99_ms)],
  ['  worst 1 s interval P99 ms', ...results.map((r) => r.loop_delay_p99_worst_interval_ms)],
  ['event-loop utilization mean', ...results.map((r) => r.elu_mean)],
  ['load window: supervisor cores used', ...results.map((r) => r.load_window_process_cores)],
  ['load window: main thread busy', ...results.map((r) => `${Math.round(r.load_window_main_thread_share * 100)}%`)],
  ['load window: CPU-pool thread busy', ...results.map((r) => `${Math.round(r.load_window_busiest_other_thread_share * 100)}%`)],
  ['supervisor CPU µs/job', ...results.map((r) => r.supervisor_cpu_us_per_job)],
  ['errors: failed / dead-lettered', ...results.map((r) => `${r.errors.failed} / ${r.errors.dead_lettered}`)],
  ['errors: submissions refused', ...results.map((r) => r.errors.submit_errors)],
  ['supervisor log errors / warnings', ...results.map((r) => `${r.errors.log_errors} / ${r.errors.log_warnings}`)],
  ['submission lag max s', ...results.map((r) => round(s(r).submit_lag_max_ms / 1000, 1))],
  ['stage P50/P99 s: submit → LLM call', ...results.map((r) => stage(r, 'to_start'))],
  ['  LLM call', ...results.map((r) => stage(r, 'llm'))],
  ['  write-back + checkpoint', ...results.map((r) => stage(r, 'write_back'))],
  ['machine busy', ...results.map((r) => `${Math.round(r.machine_busy_share * 100)}%`)],
]));
for (const r of results) {
  print(`${r.mode}: CPU share of the machine ${Object.entries(r.cpu_share).map(([name, v]) => `${name} ${Math.round(v * 100)}%`).join(', ')}; ` +
    `LLM answers ${JSON.stringify(r.llm.by_status)}`);
}
for (const r of results) {
  if (!r.profile) continue;
  print('');
  print(`${r.mode}: supervisor main-thread profile over the load window (${r.profile.busyMs} ms non-idle samples):`);
  print(profileMarkdown(r.profile, r.profile_cpu_us_per_job_in_window ?? 0));
}
const pick = (mode: string) => results.find((r) => r.mode === mode);
const summary = (r: LoadResult | undefined) =>
  r && {
    submitted: s(r).submitted,
    written: s(r).written,
    unfinished: s(r).unfinished,
    freshness_p50_ms: s(r).freshness_p50_ms,
    freshness_p95_ms: s(r).freshness_p95_ms,
    freshness_p99_ms: s(r).freshness_p99_ms,
    freshness_max_ms: s(r).freshness_max_ms,
    max_in_flight: r.max_in_flight,
    max_llm_in_flight: r.max_llm_in_flight,
    rss_max_mb: r.rss_max_mb,
    heap_used_max_mb: r.heap_used_max_mb,
    external_max_mb: r.external_max_mb,
    loop_delay_p99_ms: r.loop_delay_p99_load_ms,
    loop_delay_max_ms: r.loop_delay_max_load_ms,
    loop_delay_p99_whole_run_ms: r.loop_delay_p99_ms,
    elu_mean: r.elu_mean,
    load_window_process_cores: r.load_window_process_cores,
    load_window_main_thread_share: r.load_window_main_thread_share,
    load_window_cpu_pool_thread_share: r.load_window_busiest_other_thread_share,
    supervisor_cpu_us_per_job: r.supervisor_cpu_us_per_job,
    errors: r.errors,
    submit_lag_max_ms: s(r).submit_lag_max_ms,
    stages_ms: r.final.stagesMs,
    cpu_share: r.cpu_share,
    machine_busy_share: r.machine_busy_share,
  };
print(JSON.stringify({
  bench: 'peak',
  date: new Date().toISOString(),
  git: gitState(),
  load_average_before: load0,
  rate: RATE,
  seconds: SECONDS,
  context_bytes: CONTEXT_BYTES,
  time_scale: TIME_SCALE,
  partitions: PARTITIONS,
  slots: PARTITIONS * CONCURRENCY,
  fakes: summary(pick('fakes')) ?? null,
  stack: summary(pick('stack')) ?? null,
  elapsed_s: Math.round((Date.now() - started) / 1000),
}));
