/**
 * bench:crash — crash economics: what worker deaths cost, warden beside BullMQ.
 *
 *   node --import tsx bench/bench-crash.ts [--jobs 2000] [--workers 3] [--spread 40] [--kills 3]
 *     [--pauses 1] [--redis-restarts 1] [--bullmq-redis-wipe] [--time-scale 0.1] [--lease-ttl 5000]
 *     [--seed 7] [--price 0.01] [--only warden|bullmq] [--work-dir .warden/bench-crash]
 *
 * warden: the chaos scenario (src/stack/chaos/run-chaos.ts: a fleet of `warden supervisor`
 * processes, kill -9, SIGSTOP past the lease TTL, a Redis restart that loses every key, a join and
 * a graceful leave). BullMQ: the same workload and fault schedule against BullMQ worker processes
 * doing the same job work (crash/bull-chaos.ts); its Redis restart keeps the data unless
 * --bullmq-redis-wipe (BullMQ's queue lives in Redis: a wipe loses it, see "lost").
 * Both are counted at the simulated LLM (calls per prompt digest) and record store (write-backs
 * per digest, stale writes). Wasted spend = duplicate LLM calls x --price (a call cut off by a
 * crash is billed by providers for the tokens generated so far; the estimate counts it whole).
 * The last line of stdout is one JSON object.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from '../src/stack/chaos/run-chaos.ts';
import { runBullChaos } from './crash/bull-chaos.ts';
import { loadAverage } from './common/proc-stats.ts';
import { gitState } from './common/stack-helpers.ts';
import { positiveOption, round, table } from './common/stats.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    workers: { type: 'string' },
    spread: { type: 'string' },
    kills: { type: 'string' },
    pauses: { type: 'string' },
    'redis-restarts': { type: 'string' },
    'bullmq-redis-wipe': { type: 'boolean' },
    'time-scale': { type: 'string' },
    'lease-ttl': { type: 'string' },
    seed: { type: 'string' },
    price: { type: 'string' },
    deadline: { type: 'string' },
    only: { type: 'string' },
    'work-dir': { type: 'string' },
  },
});
const count = (name: string, fallback: number) => (values[name as keyof typeof values] === undefined ? fallback : Number(values[name as keyof typeof values]));
const JOBS = positiveOption('jobs', values.jobs, 2000, true);
const WORKERS = positiveOption('workers', values.workers, 3, true);
const SPREAD = positiveOption('spread', values.spread, 40);
const KILLS = count('kills', 3);
const PAUSES = count('pauses', 1);
const REDIS_RESTARTS = count('redis-restarts', 1);
const TIME_SCALE = positiveOption('time-scale', values['time-scale'], 0.1);
const LEASE_TTL = positiveOption('lease-ttl', values['lease-ttl'], 5000, true);
const SEED = count('seed', 7);
const PRICE = Number(values.price ?? 0.01);
const DEADLINE = positiveOption('deadline', values.deadline, 300);
const DIR = resolve(values['work-dir'] ?? '.warden/bench-crash');
const print = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const load0 = loadAverage();

// run-chaos rejects on the first failed submission (Promise.all over its scheduled work), and its
// other scheduled promises then reject unhandled: a transient emulator error (a DynamoDB request
// timing out on a busy machine) would end the whole benchmark. Note them, retry the run.
let chaosFailures = 0;
process.on('unhandledRejection', (error) => print(`(unhandled rejection in a run: ${(error as Error)?.message ?? String(error)})`));
async function wardenChaos(): Promise<Awaited<ReturnType<typeof runChaos>>> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await runChaosOnce(attempt);
    } catch (error) {
      chaosFailures += 1;
      print(`warden chaos run ${attempt} failed: ${(error as Error).message}`);
      if (attempt >= 3) throw error;
    }
  }
}
const runChaosOnce = (attempt: number) =>
  runChaos({
    jobs: JOBS,
    supervisors: WORKERS,
    spreadS: SPREAD,
    kills: KILLS,
    pauses: PAUSES,
    redisRestarts: REDIS_RESTARTS,
    timeScale: TIME_SCALE,
    seed: SEED,
    leaseTtlMs: LEASE_TTL,
    deadlineS: DEADLINE,
    workDir: join(DIR, `warden-${attempt}`),
    print,
  });
const warden = values.only === 'bullmq' ? undefined : await wardenChaos();
// run-chaos: 8 partitions x 64 slots over the fleet; BullMQ gets the same total concurrency.
const bull =
  values.only === 'warden'
    ? undefined
    : await runBullChaos({
        jobs: JOBS,
        workers: WORKERS,
        slots: 8 * 64,
        spreadS: SPREAD,
        kills: KILLS,
        pauses: PAUSES,
        redisRestarts: REDIS_RESTARTS,
        redisWipe: Boolean(values['bullmq-redis-wipe']),
        timeScale: TIME_SCALE,
        seed: SEED,
        lockTtlMs: LEASE_TTL,
        deadlineS: DEADLINE,
        workDir: join(DIR, 'bullmq'),
        print,
      });

const per1000 = (n: number, jobs: number) => (jobs > 0 ? round((1000 * n) / jobs, 2) : 0);
const w = warden && {
  jobs: warden.jobs,
  lost: warden.lost,
  llm_calls: warden.llm_calls,
  duplicate_llm_calls: warden.duplicate_llm_calls,
  duplicate_writebacks: warden.duplicate_writebacks,
  stale_writebacks: warden.stale_writebacks,
  inflight_at_faults: warden.inflight_at_faults,
};
const b = bull && {
  jobs: bull.jobs,
  lost: bull.lost,
  llm_calls: bull.llm_calls,
  duplicate_llm_calls: bull.duplicate_llm_calls,
  duplicate_writebacks: bull.duplicate_writebacks,
  stale_writebacks: bull.stale_writebacks,
  inflight_at_faults: bull.inflight_at_faults,
};
print('');
print(`crash economics: ${JOBS} submissions (a fifth duplicates, records edited mid-flight) over ${SPREAD} s, ${WORKERS} workers, ` +
  `${KILLS} kill -9, ${PAUSES} SIGSTOP for ${2 * LEASE_TTL} ms, ${REDIS_RESTARTS} Redis restart (warden: data wiped; BullMQ: ${values['bullmq-redis-wipe'] ? 'wiped' : 'data kept'}); ` +
  `lease / lock TTL ${LEASE_TTL} ms; LLM P50 ${4000 * TIME_SCALE} ms; price $${PRICE} per call; load average before ${load0.join(' ')}`);
print(table([
  ['', 'warden', 'BullMQ'],
  ['distinct jobs', w?.jobs ?? '-', b?.jobs ?? '-'],
  ['lost (never finished)', w?.lost ?? '-', b?.lost ?? '-'],
  ['LLM calls', w?.llm_calls ?? '-', b?.llm_calls ?? '-'],
  ['LLM calls in flight at the faults', w?.inflight_at_faults ?? '-', b?.inflight_at_faults ?? '-'],
  ['duplicate LLM calls', w?.duplicate_llm_calls ?? '-', b?.duplicate_llm_calls ?? '-'],
  ['  per 1,000 jobs', w ? per1000(w.duplicate_llm_calls, w.jobs) : '-', b ? per1000(b.duplicate_llm_calls, b.jobs) : '-'],
  ['duplicate write-backs', w?.duplicate_writebacks ?? '-', b?.duplicate_writebacks ?? '-'],
  ['  per 1,000 jobs', w ? per1000(w.duplicate_writebacks, w.jobs) : '-', b ? per1000(b.duplicate_writebacks, b.jobs) : '-'],
  ['stale write-backs', w?.stale_writebacks ?? '-', b?.stale_writebacks ?? '-'],
  [`wasted spend per 1,000 jobs ($${PRICE}/call)`, w ? `$${round(per1000(w.duplicate_llm_calls, w.jobs) * PRICE, 3)}` : '-', b ? `$${round(per1000(b.duplicate_llm_calls, b.jobs) * PRICE, 3)}` : '-'],
]));
if (warden) print(`warden: recovery P50/P99 ${warden.recovery_p50_ms}/${warden.recovery_p99_ms} ms over ${warden.recovered_jobs} jobs; illegal transitions ${warden.illegal_transitions}`);
if (bull) print(`BullMQ: completed ${bull.completed}, failed ${bull.failed}, stalled events ${bull.stalled_events}, duplicate completions ${bull.duplicate_llm_completions}`);
print(JSON.stringify({
  bench: 'crash',
  date: new Date().toISOString(),
  git: gitState(),
  load_average_before: load0,
  submissions: JOBS,
  workers: WORKERS,
  kills: KILLS,
  pauses: PAUSES,
  redis_restarts: REDIS_RESTARTS,
  bullmq_redis_wipe: Boolean(values['bullmq-redis-wipe']),
  lease_ttl_ms: LEASE_TTL,
  time_scale: TIME_SCALE,
  price_per_call_usd: PRICE,
  warden_chaos_failed_runs: chaosFailures,
  warden_jobs: w?.jobs ?? null,
  bullmq_jobs: b?.jobs ?? null,
  warden_duplicate_llm_calls_per_1000: w ? per1000(w.duplicate_llm_calls, w.jobs) : null,
  bullmq_duplicate_llm_calls_per_1000: b ? per1000(b.duplicate_llm_calls, b.jobs) : null,
  warden_duplicate_writebacks_per_1000: w ? per1000(w.duplicate_writebacks, w.jobs) : null,
  bullmq_duplicate_writebacks_per_1000: b ? per1000(b.duplicate_writebacks, b.jobs) : null,
  warden_wasted_usd_per_1000: w ? round(per1000(w.duplicate_llm_calls, w.jobs) * PRICE, 4) : null,
  bullmq_wasted_usd_per_1000: b ? round(per1000(b.duplicate_llm_calls, b.jobs) * PRICE, 4) : null,
  warden_stale_writebacks: w?.stale_writebacks ?? null,
  bullmq_stale_writebacks: b?.stale_writebacks ?? null,
  warden_lost: w?.lost ?? null,
  bullmq_lost: b?.lost ?? null,
  warden_inflight_at_faults: w?.inflight_at_faults ?? null,
  bullmq_inflight_at_faults: b?.inflight_at_faults ?? null,
  warden: warden ?? null,
  bullmq: bull ?? null,
  elapsed_s: Math.round((Date.now() - started) / 1000),
}));
