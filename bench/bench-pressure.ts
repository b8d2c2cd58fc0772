/**
 * bench:pressure — priority under pressure: interactive jobs at 100/s while bulk (backfill) jobs
 * saturate the global LLM limiter; interactive freshness with and without the bulk load.
 *
 *   node --import tsx bench/bench-pressure.ts [--seconds 60] [--interactive-rate 100]
 *     [--bulk-rate 300] [--rpm 12000] [--tpm 1000000000] [--mode fakes|stack] [--time-scale 1]
 *     [--context-bytes 0] [--partitions 8] [--concurrency 1000] [--work-dir .warden/bench-pressure]
 *
 * Two runs on fresh stacks, one supervisor each (peak/run-load.ts):
 *   alone:     interactive only, `--seconds` long;
 *   with bulk: bulk starts 10 s earlier (so the limiter is saturated when interactive begins)
 *              and runs on with it; the limiter's rpm is below interactive + bulk offered.
 * The limiter is warden's config.limiter (rpm, tpm, bulkReserveFraction): bulk only uses what
 * lies above the interactive reserve. Default mode 'fakes' (in-memory DynamoDB/SQS/S3, real
 * Redis limiter, LLM and record store): on this 2-core machine the emulators cannot carry
 * 400 jobs/s (see bench:peak), and this scenario is about the limiter, not the emulators.
 * If the config has no `limiter` section (older trees) the runs still happen and measure what
 * remains: slot and queue contention between the classes. The last line is one JSON object.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { configSchema } from '../src/config/config-schema.ts';
import { loadAverage } from './common/proc-stats.ts';
import { gitState } from './common/stack-helpers.ts';
import { positiveOption, round, table } from './common/stats.ts';
import { runLoad, type LoadResult, type Stream } from './peak/run-load.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'interactive-rate': { type: 'string' },
    'bulk-rate': { type: 'string' },
    rpm: { type: 'string' },
    tpm: { type: 'string' },
    'bulk-reserve': { type: 'string' },
    mode: { type: 'string' },
    'time-scale': { type: 'string' },
    'context-bytes': { type: 'string' },
    partitions: { type: 'string' },
    concurrency: { type: 'string' },
    drain: { type: 'string' },
    'log-level': { type: 'string' },
    'work-dir': { type: 'string' },
  },
});
const SECONDS = positiveOption('seconds', values.seconds, 60);
const INTERACTIVE = positiveOption('interactive-rate', values['interactive-rate'], 100);
const BULK = positiveOption('bulk-rate', values['bulk-rate'], 300);
const RPM = positiveOption('rpm', values.rpm, 12_000, true);
const TPM = positiveOption('tpm', values.tpm, 1_000_000_000, true);
const RESERVE = values['bulk-reserve'] === undefined ? undefined : Number(values['bulk-reserve']);
const MODE = (values.mode ?? 'fakes') as 'fakes' | 'stack';
const TIME_SCALE = positiveOption('time-scale', values['time-scale'], 1);
const CONTEXT_BYTES = Number(values['context-bytes'] ?? 0);
const PARTITIONS = positiveOption('partitions', values.partitions, 8, true);
const CONCURRENCY = positiveOption('concurrency', values.concurrency, 1000, true);
const DRAIN_S = positiveOption('drain', values.drain, 120);
const DIR = resolve(values['work-dir'] ?? '.warden/bench-pressure');
if (!['fakes', 'stack'].includes(MODE)) throw new Error(`--mode must be fakes or stack, got ${MODE}`);

const hasLimiter = 'limiter' in (configSchema.properties as Record<string, unknown>);
const print = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const load0 = loadAverage();
const LEAD_S = 10;
const interactive = (startS: number): Stream => ({ name: 'interactive', prefix: 'I', rate: INTERACTIVE, startS, durationS: SECONDS, priority: 'interactive', contextBytes: CONTEXT_BYTES });
const bulk: Stream = { name: 'bulk', prefix: 'B', rate: BULK, startS: 0, durationS: SECONDS + LEAD_S, priority: 'bulk', contextBytes: CONTEXT_BYTES };
const common = {
  mode: MODE,
  partitions: PARTITIONS,
  concurrency: CONCURRENCY,
  timeScale: TIME_SCALE,
  timeoutRate: 0,
  drainTimeoutS: DRAIN_S,
  workDir: DIR,
  logLevel: values['log-level'] ?? 'info',
  configOverrides: (config: Record<string, any>) => {
    if (!hasLimiter) return;
    config['limiter'] = { ...config['limiter'], enabled: true, rpm: RPM, tpm: TPM, tenantShare: 1, ...(RESERVE === undefined ? {} : { bulkReserveFraction: RESERVE }) };
  },
  print,
};
if (!hasLimiter) print('pressure: this tree has no config.limiter: measuring slot and queue contention only (no rate limit to saturate)');
const alone = await runLoad({ ...common, label: 'pressure-alone', streams: [interactive(0)] });
const withBulk = await runLoad({ ...common, label: 'pressure-with-bulk', streams: [bulk, interactive(LEAD_S)] });

const find = (r: LoadResult, name: string) => r.streams.find((s) => s.name === name);
const ia = find(alone, 'interactive')!;
const ib = find(withBulk, 'interactive')!;
const bb = find(withBulk, 'bulk')!;
const sec = (ms: number) => round(ms / 1000, 2);
print('');
print(`priority under pressure (${MODE} mode): interactive ${INTERACTIVE}/s for ${SECONDS} s; bulk offered ${BULK}/s from ${LEAD_S} s before; ` +
  `limiter ${hasLimiter ? `${RPM} rpm (${round(RPM / 60, 1)}/s), ${TPM} tpm${RESERVE === undefined ? '' : `, bulk reserve ${RESERVE}`}` : 'absent'}; ` +
  `LLM P50 ${4 * TIME_SCALE} s, P95 ${20 * TIME_SCALE} s; load average before ${load0.join(' ')}`);
print(table([
  ['', 'interactive alone', 'interactive + bulk', 'bulk'],
  ['submitted', ia.submitted, ib.submitted, bb.submitted],
  ['written back', ia.written, ib.written, bb.written],
  ['unfinished at the end', ia.unfinished, ib.unfinished, bb.unfinished],
  ['freshness P50 s', sec(ia.freshness_p50_ms), sec(ib.freshness_p50_ms), sec(bb.freshness_p50_ms)],
  ['freshness P95 s', sec(ia.freshness_p95_ms), sec(ib.freshness_p95_ms), sec(bb.freshness_p95_ms)],
  ['freshness P99 s', sec(ia.freshness_p99_ms), sec(ib.freshness_p99_ms), sec(bb.freshness_p99_ms)],
  ['max jobs in flight', alone.max_in_flight, withBulk.max_in_flight, ''],
  ['event-loop delay P99 ms under load', alone.loop_delay_p99_load_ms, withBulk.loop_delay_p99_load_ms, ''],
  ['stage P50 s: submit → LLM call', sec(alone.final.stagesMs['to_start']?.p50 ?? 0), sec(withBulk.final.stagesMs['to_start']?.p50 ?? 0), '(all classes)'],
]));
print(`with bulk: ${bb.written} bulk jobs written over the ${withBulk.wall_s} s run (${round(bb.written / withBulk.wall_s, 1)}/s); ` +
  `jobs in flight peaked at ${withBulk.max_in_flight} of ${PARTITIONS * CONCURRENCY} slots`);
print(JSON.stringify({
  bench: 'pressure',
  date: new Date().toISOString(),
  git: gitState(),
  load_average_before: load0,
  mode: MODE,
  limiter_configured: hasLimiter,
  limiter_rpm: hasLimiter ? RPM : null,
  limiter_tpm: hasLimiter ? TPM : null,
  bulk_reserve_fraction: RESERVE ?? null,
  interactive_rate: INTERACTIVE,
  bulk_offered_rate: BULK,
  seconds: SECONDS,
  time_scale: TIME_SCALE,
  interactive_alone_p50_ms: ia.freshness_p50_ms,
  interactive_alone_p99_ms: ia.freshness_p99_ms,
  interactive_with_bulk_p50_ms: ib.freshness_p50_ms,
  interactive_with_bulk_p99_ms: ib.freshness_p99_ms,
  interactive_with_bulk_unfinished: ib.unfinished,
  bulk_written: bb.written,
  /** Over the whole run, drain included: what the limiter let bulk have. */
  bulk_written_per_s_over_run: round(bb.written / withBulk.wall_s, 1),
  interactive_with_bulk_stage_note: 'to_start = submit → LLM call (queue, slots, limiter); see stages_with_bulk_ms',
  bulk_freshness_p50_ms: bb.freshness_p50_ms,
  max_in_flight_with_bulk: withBulk.max_in_flight,
  stages_alone_ms: alone.final.stagesMs,
  stages_with_bulk_ms: withBulk.final.stagesMs,
  elapsed_s: Math.round((Date.now() - started) / 1000),
}));
