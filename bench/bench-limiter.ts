/**
 * bench:limiter — N processes hammer ONE limiter bucket in one redis-server; measures the admitted
 * rates against the configured ones and the Redis commands each admission costs.
 *
 *   node --import tsx bench/bench-limiter.ts [--seconds 30] [--warmup 5] [--workers 4]
 *     [--concurrency 64] [--rpm 6000] [--tpm 600000] [--priority interactive|bulk|mixed]
 *     [--tenants 8] [--tenant-share 0.25] [--burst-ms 5000] [--reserve 0.2]
 *
 * The last line of stdout is one JSON object. Redis traffic is counted from `INFO commandstats`
 * deltas over the measured window. Every limiter command is a script call (EVALSHA, or EVAL the
 * first time on a connection), so the round trips are the eval/evalsha calls; commandstats also
 * counts the commands a script runs inside Redis (TIME, HMGET, HSET...), listed apart, and
 * `redis_commands_per_admission` counts everything. Reconciles ride along with the admission
 * calls; the adjustment calls sent on their own (counted by the workers) are subtracted for
 * `redis_calls_per_admission` and included in `..._incl_reconcile`. Workers keep the load on
 * for a grace period after the window, so stopping falls outside it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '../src/stack/infra/redis-server.ts';
import type { StartMessage, WorkerConfig, WorkerResult } from './limiter/bench-config.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    workers: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '64' },
    rpm: { type: 'string', default: '6000' },
    tpm: { type: 'string', default: '600000' },
    priority: { type: 'string', default: 'interactive' },
    tenants: { type: 'string', default: '8' },
    'tenant-share': { type: 'string', default: '0.25' },
    'burst-ms': { type: 'string', default: '5000' },
    reserve: { type: 'string', default: '0.2' },
  },
});

function positive(name: string, raw: string | undefined, integer = false): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`bench-limiter: --${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
    process.exit(2);
  }
  return n;
}

const seconds = positive('seconds', values.seconds);
const warmup = Number(values.warmup);
const workers = positive('workers', values.workers, true);
const priority = values.priority as WorkerConfig['priority'];
if (!['interactive', 'bulk', 'mixed'].includes(priority)) {
  console.error(`bench-limiter: --priority must be interactive, bulk or mixed, got ${priority}`);
  process.exit(2);
}

function commandCalls(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const result = new Map<string, number>();
  for (const [name, calls] of after) {
    if (name === 'info') continue;
    const d = calls - (before.get(name) ?? 0);
    if (d > 0) result.set(name, d);
  }
  return result;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const server = await startRedisServer();
  const admin = new Redis(server.url, { maxRetriesPerRequest: 3 });
  admin.on('error', () => undefined);
  const children: ChildProcess[] = [];
  try {
    const base: Omit<WorkerConfig, 'worker'> = {
      redisUrl: server.url,
      keyPrefix: 'bench:',
      rpm: positive('rpm', values.rpm),
      tpm: positive('tpm', values.tpm),
      burstMs: positive('burst-ms', values['burst-ms']),
      bulkReserveFraction: Number(values.reserve),
      tenantShare: positive('tenant-share', values['tenant-share']),
      tenants: positive('tenants', values.tenants, true),
      concurrency: positive('concurrency', values.concurrency, true),
      priority,
      minTokens: 50,
      maxTokens: 150,
    };
    const workerPath = fileURLToPath(new URL('./limiter/worker.ts', import.meta.url));
    const results: Promise<WorkerResult>[] = [];
    const ready: Promise<void>[] = [];
    for (let worker = 0; worker < workers; worker += 1) {
      const child = fork(workerPath, [JSON.stringify({ ...base, worker })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      ready.push(new Promise((resolve, reject) => {
        child.on('message', (m: { type?: string }) => m?.type === 'ready' && resolve());
        child.once('exit', (code) => reject(new Error(`worker ${worker} exited with ${code} before it was ready`)));
      }));
      results.push(new Promise((resolve, reject) => {
        child.on('message', (m: WorkerResult) => m?.type === 'result' && resolve(m));
        child.once('exit', (code) => reject(new Error(`worker ${worker} exited with ${code} without a result`)));
      }));
    }
    await Promise.all(ready);

    const startAt = Date.now() + 100;
    const start: StartMessage = { type: 'start', measureFrom: startAt + warmup * 1000, measureTo: startAt + (warmup + seconds) * 1000, graceMs: 1500 };
    for (const child of children) child.send(start);
    console.log(`bench-limiter: ${workers} processes x ${base.concurrency} acquirers, one bucket (rpm ${base.rpm}, tpm ${base.tpm}), ` +
      `${priority}, ${base.tenants} tenants (share ${base.tenantShare}), warm-up ${warmup} s, measuring ${seconds} s`);

    const at = (epochMs: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
    await at(start.measureFrom);
    const before = commandCalls(await admin.info('commandstats'));
    await at(start.measureTo);
    const after = commandCalls(await admin.info('commandstats'));
    const all = await Promise.all(results);

    const sum = (f: (r: WorkerResult) => number): number => all.reduce((acc, r) => acc + f(r), 0);
    const admissions = sum((r) => r.admissions);
    const reconciles = sum((r) => r.reconciles);
    const adjustCalls = sum((r) => r.adjustCalls);
    const attempts = sum((r) => r.attempts);
    const admitCalls = sum((r) => r.admitCalls);
    const commands = delta(before, after);
    const roundTripNames = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);
    let roundTrips = 0;
    let allCommands = 0;
    const inner: string[] = [];
    for (const [name, n] of commands) {
      allCommands += n;
      if (roundTripNames.has(name)) roundTrips += n;
      else inner.push(`${name}=${n}`);
    }
    const admittedRpm = (admissions / seconds) * 60;
    const admittedTpm = (sum((r) => r.actualTokens) / seconds) * 60;
    const admittedTpmEstimated = (sum((r) => r.estimatedTokens) / seconds) * 60;
    const rpmError = Math.abs(admittedRpm - base.rpm) / base.rpm;
    const tpmError = Math.abs(admittedTpm - base.tpm) / base.tpm;

    const rows: Array<[string, string]> = [
      ['configured rpm', String(base.rpm)],
      ['admitted rpm', `${round(admittedRpm, 1)} (${round(((admittedRpm - base.rpm) / base.rpm) * 100)}%)`],
      ['configured tpm', String(base.tpm)],
      ['admitted tpm (actual usage)', `${round(admittedTpm, 0)} (${round(((admittedTpm - base.tpm) / base.tpm) * 100)}%)`],
      ['admitted tpm (estimates)', String(round(admittedTpmEstimated, 0))],
      ['admissions in window', String(admissions)],
      ['redis round trips in window (eval/evalsha)', String(roundTrips)],
      ['  commands run inside the scripts', inner.join(' ')],
      ['  of which adjustments sent on their own', String(adjustCalls)],
      ['redis calls / admission', String(round((roundTrips - adjustCalls) / admissions, 3))],
      ['  incl. reconcile', String(round(roundTrips / admissions, 3))],
      ['redis commands / admission (commandstats, all)', String(round(allCommands / admissions, 3))],
      ['reconciles in window (carried by the calls above)', String(reconciles)],
      ['admission attempts / admission (client count)', String(round(attempts / admissions, 3))],
      ['attempts per admission call (client count)', String(round(attempts / Math.max(1, admitCalls), 2))],
      ['store calls in window (client count)', String(sum((r) => r.admitCalls + r.adjustCalls + r.otherCalls))],
      ['admission attempts refused', String(attempts - admissions)],
      ['errors', String(sum((r) => r.errors))],
    ];
    for (const kind of ['interactive', 'bulk'] as const) {
      const w = all.map((r) => r.waits[kind]).filter((s) => s.count > 0);
      if (w.length === 0) continue;
      rows.push([`${kind} wait ms p50 / p99 / max (worst worker)`, `${round(Math.max(...w.map((s) => s.p50)), 1)} / ${round(Math.max(...w.map((s) => s.p99)), 1)} / ${round(Math.max(...w.map((s) => s.max)), 1)}`]);
    }
    for (const r of all) rows.push([`worker ${r.worker} admissions`, String(r.admissions)]);
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log('');
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
    console.log('');
    console.log(JSON.stringify({
      configured_rpm: base.rpm,
      admitted_rpm: round(admittedRpm, 1),
      error_pct: round(Math.max(rpmError, tpmError) * 100, 3),
      configured_tpm: base.tpm,
      admitted_tpm: round(admittedTpm, 0),
      redis_calls_per_admission: round((roundTrips - adjustCalls) / admissions, 3),
      redis_calls_per_admission_incl_reconcile: round(roundTrips / admissions, 3),
      redis_commands_per_admission: round(allCommands / admissions, 3),
      attempts_per_admission_call: round(attempts / Math.max(1, admitCalls), 2),
      admitted_tpm_estimated: round(admittedTpmEstimated, 0),
      rpm_error_pct: round(rpmError * 100, 3),
      tpm_error_pct: round(tpmError * 100, 3),
      admissions,
      workers,
      concurrency: base.concurrency,
      priority,
      seconds,
      warmup_seconds: warmup,
    }));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
    admin.disconnect();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
