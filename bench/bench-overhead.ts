/**
 * bench:overhead — what the runtime itself costs per job, warden beside BullMQ, with a simulated
 * LLM that answers at once (time scale 1e-6) so only the runtimes' work is left.
 *
 *   node --import tsx bench/bench-overhead.ts [--jobs 3000] [--bullmq-jobs 10000] [--partitions 4]
 *     [--concurrency 64] [--context-bytes 2048] [--context-share 0.3] [--warmup 300]
 *     [--via api|producer] [--log-level info] [--profile] [--only warden|bullmq]
 *     [--work-dir .warden/bench-overhead]
 *
 * warden: the real `warden supervisor` process (spawnSupervisor) on the local stack, emulators in
 * child processes. Its DynamoDB, SQS/S3 and Redis traffic goes through a counting proxy (its own
 * process), which counts requests by operation. After a warm-up batch the supervisor is stopped
 * (SIGSTOP), N jobs are submitted (ingest API path: S3 context, conditional PutItem, SendMessage),
 * counters are read, the supervisor is continued (SIGCONT) and the drain is measured until every
 * message is deleted. CPU per job is the supervisor's utime+stime from /proc (all its threads).
 *
 * BullMQ: one worker process (concurrency = partitions x concurrency) on the same redis-server,
 * doing the same job work (bullmq/job-work.ts): the same rendered prompt to the same simulated LLM,
 * the same GET + If-Match PATCH at the record store. Warm-up, pause, addBulk N, resume, drain.
 *
 * --profile runs the supervisor under `node --cpu-prof` and summarizes the samples inside the
 * drain window by package (its CPU numbers then include the profiler's overhead).
 * The last line of stdout is one JSON object.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { ingestDeps } from '../src/ingest/ingest-deps.ts';
import { WardenProducer } from '../src/ingest/producer.ts';
import { submitJob } from '../src/ingest/submit-job.ts';
import { jobKey } from '../src/jobs/job-key.ts';
import { makeAwsClients } from '../src/runtime/aws/aws-clients.ts';
import { createRuntime } from '../src/runtime/runtime-context.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { spawnSupervisor } from '../src/stack/demo/spawn-supervisor.ts';
import { startLocalStack } from '../src/stack/local-stack.ts';
import { BullProcess } from './bullmq/bull-process.ts';
import { benchRecord, benchRequest, contextPool, type BenchRecord } from './common/bench-workload.ts';
import { diffCounts, startCountingProxy, type ProxyCounts } from './common/counting-proxy.ts';
import { profileMarkdown, summarizeProfiles, type ProfileSummary } from './common/cpu-profile-summary.ts';
import { CpuLedger, loadAverage } from './common/proc-stats.ts';
import { commandDelta, commandStats, sum } from './common/redis-stats.ts';
import { gitState, mapLimit, PROFILER_PRELOAD, putRecords, queueDepth, redirectConfig, signal, withEnv, writeJson } from './common/stack-helpers.ts';
import { positiveOption, round, sleep, table, waitUntil } from './common/stats.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    'bullmq-jobs': { type: 'string' },
    partitions: { type: 'string' },
    concurrency: { type: 'string' },
    'context-bytes': { type: 'string' },
    'context-share': { type: 'string' },
    warmup: { type: 'string' },
    via: { type: 'string' },
    'log-level': { type: 'string' },
    profile: { type: 'boolean' },
    only: { type: 'string' },
    'idle-seconds': { type: 'string' },
    'work-dir': { type: 'string' },
  },
});
const N = positiveOption('jobs', values.jobs, 3000, true);
const BULL_N = positiveOption('bullmq-jobs', values['bullmq-jobs'], 10_000, true);
const PARTITIONS = positiveOption('partitions', values.partitions, 4, true);
const CONCURRENCY = positiveOption('concurrency', values.concurrency, 64, true);
const CONTEXT_BYTES = Number(values['context-bytes'] ?? 2048);
const CONTEXT_SHARE = Number(values['context-share'] ?? 0.3);
const WARMUP = positiveOption('warmup', values.warmup, 300, true);
const IDLE_S = positiveOption('idle-seconds', values['idle-seconds'], 4);
const VIA = (values.via ?? 'api') as 'api' | 'producer';
const LOG_LEVEL = values['log-level'] ?? 'info';
const ONLY = values.only;
const DIR = resolve(values['work-dir'] ?? '.warden/bench-overhead');
const DRAIN_TIMEOUT_MS = 15 * 60_000;
if (!['api', 'producer'].includes(VIA)) throw new Error(`--via must be api or producer, got ${VIA}`);

const print = (line: string) => process.stdout.write(`${line}\n`);
const contexts = contextPool(Math.max(1, CONTEXT_BYTES));
const requestFor = (record: BenchRecord, i: number) =>
  benchRequest(record, CONTEXT_BYTES > 0 && (i % 100) / 100 < CONTEXT_SHARE ? { context: contexts[i % contexts.length] as string } : {});

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const started = Date.now();
const load0 = loadAverage();

const stack = await startLocalStack({
  partitions: PARTITIONS,
  timeScale: 1e-6,
  timeoutRate: 0,
  mode: 'child',
  configOverrides: (config) => {
    config['metrics'] = { output: join(DIR, 'metrics.emf'), flushIntervalMs: 10_000 };
    config['actor'] = { concurrency: CONCURRENCY };
    config['log'] = { level: LOG_LEVEL };
    // Production long polls; leases long enough to outlast the SIGSTOP while N jobs are submitted.
    config['queues'] = { ...config['queues'], waitTimeS: 20 };
    config['leases'] = { ttlMs: 120_000, memberTtlMs: 120_000, rebalanceIntervalMs: 1000 };
    config['llm'] = { ...config['llm'], timeoutMs: 60_000, firstByteTimeoutMs: 60_000, backoffBaseMs: 10, backoffMaxMs: 1000 };
  },
});
const proxy = await startCountingProxy({
  http: [
    { name: 'dynamodb', target: stack.infra.dynamodbEndpoint },
    { name: 'fauxqs', target: stack.infra.sqsEndpoint },
  ],
  redis: { target: stack.infra.redis.url },
});
const proxied = redirectConfig(stack.config, { dynamodb: proxy.urls['dynamodb'], sqs: proxy.urls['fauxqs'], s3: proxy.urls['fauxqs'], redis: proxy.urls['redis'] });
const supervisorConfigPath = writeJson(join(DIR, 'supervisor-config.json'), proxied);
const silent = createLogger({ level: 'warn', service: 'bench-driver', destination: pino.destination(join(DIR, 'driver.log')) });
// Submissions go through the proxy too (counted in their own window); polling goes direct.
const submitRuntime = await createRuntime(proxied, { log: silent });
const direct = makeAwsClients({ region: stack.config.aws.region, endpoints: stack.config.aws.endpoints });
const partitionUrls = Array.from({ length: PARTITIONS }, (_, p) => submitRuntime.queueUrl(p));
const dlqUrls = Object.values(submitRuntime.deadLetterUrls);
const deps = ingestDeps(submitRuntime);
const producer = new WardenProducer({ payloads: submitRuntime.payloads, cipher: submitRuntime.cipher, queueFor: (p) => submitRuntime.queueFor(p), partitions: PARTITIONS });
const submit = async (record: BenchRecord, i: number) => {
  const request = requestFor(record, i);
  if (VIA === 'producer') await producer.submit(request);
  else await submitJob(deps, request);
};

const basePids = new Map<string, number>([
  ['driver (sim LLM + record store)', process.pid],
  ['dynalite', stack.infra.dynalite.pid],
  ['fauxqs', stack.infra.fauxqs.pid],
  ['redis-server', stack.infra.redis.pid],
  ['counting proxy', proxy.pid],
]);

interface SideResult {
  jobs: number;
  drainMs: number;
  cpuUs: Record<string, number>;
  machineBusyShare: number;
  cores: number;
  workerCpuUs: number;
  redisStats: Record<string, number>;
  calls: ProxyCounts;
  idle?: { seconds: number; cpuUsPerS: number; redisStatsPerS: number; calls: ProxyCounts };
  submitCalls?: ProxyCounts;
  submitMs?: number;
  writebacks: number;
  llmCalls: number;
  dlq?: number;
  profile?: ProfileSummary;
}

async function runWarden(): Promise<SideResult> {
  const records = Array.from({ length: WARMUP + N }, (_, i) => benchRecord('W', i));
  putRecords(stack.records, records);
  const profileDir = join(DIR, 'cpu-profile');
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preloaded module runs the inspector's profiler.
  const supervisor = await withEnv(
    values.profile ? { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${PROFILER_PRELOAD}`.trim(), BENCH_CPU_PROF_DIR: profileDir } : {},
    () => spawnSupervisor(supervisorConfigPath, join(DIR, 'supervisor.log'), 'bench-overhead-1'),
  );
  const pids = new Map([...basePids, ['warden supervisor', supervisor.pid]]);
  const ledger = new CpuLedger(pids);
  try {
    // Warm-up: JIT, connections, leases; then an idle window for the background rate.
    print(`warden: supervisor pid ${supervisor.pid}; warm-up with ${WARMUP} jobs`);
    const writesAtStart = stack.records.stats().patchesApplied;
    await mapLimit(records.slice(0, WARMUP), 32, submit);
    const warmed = await waitUntil(
      async () => stack.records.stats().patchesApplied - writesAtStart >= WARMUP && (await queueDepth(direct.sqs, partitionUrls)) === 0,
      120_000,
      200,
    );
    if (!warmed) throw new Error('warden warm-up did not drain within 120 s (see supervisor.log)');
    await sleep(1500);
    const idleCalls0 = await proxy.snapshot();
    const idleRedis0 = await commandStats(stack.infra.redis.url);
    ledger.mark();
    await sleep(IDLE_S * 1000);
    const idleCpu = ledger.read();
    const idleCalls = diffCounts(idleCalls0, await proxy.snapshot());
    const idleRedis = commandDelta(idleRedis0, await commandStats(stack.infra.redis.url));

    // Stop the supervisor, submit N, read the counters, continue it and time the drain.
    signal(supervisor.pid, 'SIGSTOP');
    const submitCalls0 = await proxy.snapshot();
    const submitStart = performance.now();
    await mapLimit(records.slice(WARMUP), 32, (record, i) => submit(record, WARMUP + i));
    const submitMs = performance.now() - submitStart;
    const calls0 = await proxy.snapshot();
    const submitCalls = diffCounts(submitCalls0, calls0);
    print(`warden: ${N} jobs submitted in ${(submitMs / 1000).toFixed(1)} s while the supervisor was stopped; draining`);
    const redis0 = await commandStats(stack.infra.redis.url);
    const writes0 = stack.records.stats().patchesApplied;
    const llm0 = stack.llm.stats().calls;
    ledger.mark();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const t0 = performance.now();
    signal(supervisor.pid, 'SIGCONT');
    let lastPrint = t0;
    const drained = await waitUntil(
      async () => {
        const written = stack.records.stats().patchesApplied - writes0;
        if (performance.now() - lastPrint > 5000) {
          lastPrint = performance.now();
          print(`  t=${((lastPrint - t0) / 1000).toFixed(0)}s written ${written}/${N}`);
        }
        return written >= N && (await queueDepth(direct.sqs, partitionUrls)) === 0;
      },
      DRAIN_TIMEOUT_MS,
      50,
    );
    const drainMs = performance.now() - t0;
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const cpu = ledger.read();
    const calls = diffCounts(calls0, await proxy.snapshot());
    const redisStats = commandDelta(redis0, await commandStats(stack.infra.redis.url));
    if (!drained) throw new Error(`warden did not drain ${N} jobs within ${DRAIN_TIMEOUT_MS / 1000} s`);
    const dlq = await queueDepth(direct.sqs, dlqUrls);
    let profile: ProfileSummary | undefined;
    signal(supervisor.pid, 'SIGTERM');
    await Promise.race([supervisor.exited, sleep(30_000)]);
    if (values.profile) profile = summarizeProfiles(profileDir, { fromUs, toUs });
    const idleSeconds = idleCpu.wallMs / 1000;
    return {
      jobs: N,
      drainMs,
      cpuUs: cpu.perProcessUs,
      machineBusyShare: cpu.machineBusyUs / cpu.machineCapacityUs,
      cores: cpu.cores,
      workerCpuUs: cpu.perProcessUs['warden supervisor'] ?? 0,
      redisStats,
      calls,
      idle: {
        seconds: idleSeconds,
        cpuUsPerS: (idleCpu.perProcessUs['warden supervisor'] ?? 0) / idleSeconds,
        redisStatsPerS: sum(idleRedis) / idleSeconds,
        calls: idleCalls,
      },
      submitCalls,
      submitMs,
      writebacks: stack.records.stats().patchesApplied - writes0,
      llmCalls: stack.llm.stats().calls - llm0,
      dlq,
      ...(profile ? { profile } : {}),
    };
  } finally {
    signal(supervisor.pid, 'SIGCONT');
    supervisor.kill();
    await supervisor.exited;
  }
}

async function runBullmq(): Promise<SideResult> {
  const queueName = 'bench-overhead-bullmq';
  const records = Array.from({ length: WARMUP + BULL_N }, (_, i) => benchRecord('B', i));
  putRecords(stack.records, records);
  const bull = await BullProcess.start({
    redisUrl: proxy.urls['redis'] as string,
    queue: queueName,
    concurrency: PARTITIONS * CONCURRENCY,
    member: 'bullmq-1',
    llmUrl: stack.llm.url,
    recordsUrl: stack.records.url,
    promptsDir: stack.config.prompts.dir,
    model: stack.config.llm.model,
    llmTimeoutMs: 60_000,
    autorun: false,
  });
  const pids = new Map([...basePids, ['bullmq worker', bull.pid]]);
  const ledger = new CpuLedger(pids);
  const connection = new Redis(stack.infra.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const add = async (slice: BenchRecord[], offset: number) => {
    for (let i = 0; i < slice.length; i += 500) {
      const chunk = slice.slice(i, i + 500).map((record, j) => {
        const data = requestFor(record, offset + i + j);
        return { name: 'generate', data, opts: { jobId: jobKey(data) } };
      });
      await queue.addBulk(chunk);
    }
  };
  try {
    print(`bullmq: worker pid ${bull.pid}, concurrency ${PARTITIONS * CONCURRENCY}; warm-up with ${WARMUP} jobs`);
    await add(records.slice(0, WARMUP), 0);
    bull.run();
    if (!(await waitUntil(async () => (await bull.stats()).completed >= WARMUP, 120_000, 100))) throw new Error('bullmq warm-up did not finish');
    await bull.pause();
    await add(records.slice(WARMUP), WARMUP);
    await queue.close();
    connection.disconnect();
    print(`bullmq: ${BULL_N} jobs added; draining`);
    await sleep(500);
    const calls0 = await proxy.snapshot();
    const redis0 = await commandStats(stack.infra.redis.url);
    const writes0 = stack.records.stats().patchesApplied;
    const llm0 = stack.llm.stats().calls;
    const before = await bull.stats();
    ledger.mark();
    const t0 = performance.now();
    bull.run();
    const drained = await waitUntil(async () => {
      const now = await bull.stats();
      return now.completed + now.failed >= WARMUP + BULL_N;
    }, DRAIN_TIMEOUT_MS, 20);
    const drainMs = performance.now() - t0;
    const cpu = ledger.read();
    const after = await bull.stats();
    const calls = diffCounts(calls0, await proxy.snapshot());
    const redisStats = commandDelta(redis0, await commandStats(stack.infra.redis.url));
    if (!drained) throw new Error(`bullmq did not drain ${BULL_N} jobs`);
    if (after.failed > 0) print(`bullmq: ${after.failed} jobs failed`);
    return {
      jobs: BULL_N,
      drainMs,
      cpuUs: cpu.perProcessUs,
      machineBusyShare: cpu.machineBusyUs / cpu.machineCapacityUs,
      cores: cpu.cores,
      workerCpuUs: cpu.perProcessUs['bullmq worker'] ?? after.cpuUs - before.cpuUs,
      redisStats,
      calls,
      writebacks: stack.records.stats().patchesApplied - writes0,
      llmCalls: stack.llm.stats().calls - llm0,
    };
  } finally {
    await bull.close();
  }
}

/** DynamoDB / SQS / S3 calls of a proxy count, split and per job. */
function awsBreakdown(calls: ProxyCounts, jobs: number) {
  const ddb = calls.http['dynamodb'] ?? {};
  const faux = calls.http['fauxqs'] ?? {};
  const isWrite = (op: string) => /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)/.test(op);
  const ddbWrites = Object.entries(ddb).filter(([op]) => isWrite(op)).reduce((a, [, n]) => a + n, 0);
  const ddbReads = Object.entries(ddb).filter(([op]) => !isWrite(op)).reduce((a, [, n]) => a + n, 0);
  const SQS_OPS = /^(ReceiveMessage|DeleteMessage|ChangeMessageVisibility|SendMessage|GetQueueUrl|GetQueueAttributes|PurgeQueue|ListQueues|CreateQueue)/;
  const sqs = Object.fromEntries(Object.entries(faux).filter(([op]) => SQS_OPS.test(op)));
  const s3 = Object.fromEntries(Object.entries(faux).filter(([op]) => !SQS_OPS.test(op)));
  const per = (n: number) => round(n / jobs, 3);
  const perOp = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).sort().map(([op, n]) => [op, per(n)]));
  return {
    ddbWritesPerJob: per(ddbWrites),
    ddbReadsPerJob: per(ddbReads),
    sqsPerJob: per(sum(sqs)),
    s3PerJob: per(sum(s3)),
    redisRoundTripsPerJob: per(sum(calls.redis)),
    ddbOps: perOp(ddb),
    sqsOps: perOp(sqs),
    s3Ops: perOp(s3),
    redisOps: perOp(calls.redis),
  };
}

let warden: SideResult | undefined;
let bull: SideResult | undefined;
try {
  if (ONLY !== 'bullmq') warden = await runWarden();
  if (ONLY !== 'warden') bull = await runBullmq();
} finally {
  await submitRuntime.close().catch(() => undefined);
  direct.destroy();
  await proxy.stop();
  await stack.stop();
}

const w = warden ? awsBreakdown(warden.calls, warden.jobs) : undefined;
const b = bull ? awsBreakdown(bull.calls, bull.jobs) : undefined;
const wSubmit = warden?.submitCalls ? awsBreakdown(warden.submitCalls, warden.jobs) : undefined;
const perS = (side: SideResult | undefined) => (side ? round(side.jobs / (side.drainMs / 1000), 1) : 0);
const cpuPerJob = (side: SideResult | undefined) => (side ? round(side.workerCpuUs / side.jobs, 0) : 0);
const redisPerJob = (side: SideResult | undefined) => (side ? round(sum(side.redisStats) / side.jobs, 3) : 0);
const share = (side: SideResult | undefined, name: string) =>
  side ? round((side.cpuUs[name] ?? 0) / (side.drainMs * 1000 * side.cores), 3) : 0;
const idleNet = (side: SideResult | undefined) =>
  side?.idle ? round((side.workerCpuUs - side.idle.cpuUsPerS * (side.drainMs / 1000)) / side.jobs, 0) : 0;

print('');
print(`overhead: simulated LLM at ~0 latency, ${PARTITIONS} partitions x ${CONCURRENCY} slots (BullMQ concurrency ${PARTITIONS * CONCURRENCY}), ` +
  `${Math.round(CONTEXT_SHARE * 100)}% of jobs with ${CONTEXT_BYTES} B context, submitted via ${VIA}; load average before ${load0.join(' ')}`);
print(table([
  ['per job (drain window)', 'warden', 'BullMQ'],
  ['jobs', warden?.jobs ?? '-', bull?.jobs ?? '-'],
  ['jobs/s', perS(warden), perS(bull)],
  ['worker CPU µs/job', cpuPerJob(warden), cpuPerJob(bull)],
  ['  net of idle background', idleNet(warden), '-'],
  ['DynamoDB writes', w?.ddbWritesPerJob ?? '-', 0],
  ['DynamoDB reads', w?.ddbReadsPerJob ?? '-', 0],
  ['SQS calls', w?.sqsPerJob ?? '-', 0],
  ['S3 calls', w?.s3PerJob ?? '-', 0],
  ['Redis commands (commandstats)', redisPerJob(warden), redisPerJob(bull)],
  ['Redis round trips (client cmds)', w?.redisRoundTripsPerJob ?? '-', b?.redisRoundTripsPerJob ?? '-'],
  ['LLM calls', warden ? round(warden.llmCalls / warden.jobs, 3) : '-', bull ? round(bull.llmCalls / bull.jobs, 3) : '-'],
  ['write-backs', warden ? round(warden.writebacks / warden.jobs, 3) : '-', bull ? round(bull.writebacks / bull.jobs, 3) : '-'],
]));
if (w) {
  print('');
  print(`warden calls per job by operation: DynamoDB ${JSON.stringify(w.ddbOps)}`);
  print(`  SQS ${JSON.stringify(w.sqsOps)}  S3 ${JSON.stringify(w.s3Ops)}  Redis ${JSON.stringify(w.redisOps)}`);
  if (wSubmit) print(`  submission side (${VIA}): DynamoDB ${JSON.stringify(wSubmit.ddbOps)} SQS ${JSON.stringify(wSubmit.sqsOps)} S3 ${JSON.stringify(wSubmit.s3Ops)}`);
  if (warden?.idle) {
    const idle = warden.idle;
    const rate = (c: ProxyCounts) => round(Object.values(c.http).reduce((a, ops) => a + sum(ops), 0) / idle.seconds, 2);
    print(`  idle background: supervisor ${round(idle.cpuUsPerS / 1000, 1)} ms CPU/s, ${rate(idle.calls)} AWS calls/s, ${round(idle.redisStatsPerS, 2)} Redis cmds/s`);
  }
}
if (b) print(`BullMQ Redis round trips per job: ${JSON.stringify(b.redisOps)}; commandstats per job: ${JSON.stringify(Object.fromEntries(Object.entries(bull!.redisStats).map(([k, v]) => [k, round(v / bull!.jobs, 3)])))}`);
for (const [label, side] of [['warden', warden], ['BullMQ', bull]] as const) {
  if (!side) continue;
  print(`machine during the ${label} drain (${side.cores} cores, ${(side.drainMs / 1000).toFixed(1)} s): busy ${round(side.machineBusyShare * 100, 1)}%; ` +
    Object.keys(side.cpuUs).map((name) => `${name} ${round(share(side, name) * 100, 1)}%`).join(', '));
}
if (warden?.profile) {
  print('');
  print(`supervisor main-thread CPU profile in the drain window (${warden.profile.busyMs} ms of non-idle samples; profiler on):`);
  print(profileMarkdown(warden.profile, warden.workerCpuUs / warden.jobs));
  writeJson(join(DIR, 'profile-summary.json'), warden.profile);
}

const result = {
  bench: 'overhead',
  date: new Date().toISOString(),
  git: gitState(),
  machine_cores: warden?.cores ?? bull?.cores,
  load_average_before: load0,
  partitions: PARTITIONS,
  slots: PARTITIONS * CONCURRENCY,
  context_bytes: CONTEXT_BYTES,
  context_share: CONTEXT_SHARE,
  via: VIA,
  log_level: LOG_LEVEL,
  profiled: Boolean(values.profile),
  warden_jobs: warden?.jobs ?? 0,
  bullmq_jobs: bull?.jobs ?? 0,
  warden_jobs_per_s: perS(warden),
  bullmq_jobs_per_s: perS(bull),
  warden_cpu_us_per_job: cpuPerJob(warden),
  warden_cpu_us_per_job_net_of_idle: idleNet(warden),
  bullmq_cpu_us_per_job: cpuPerJob(bull),
  ddb_writes_per_job: w?.ddbWritesPerJob ?? null,
  ddb_reads_per_job: w?.ddbReadsPerJob ?? null,
  sqs_calls_per_job: w?.sqsPerJob ?? null,
  s3_calls_per_job: w?.s3PerJob ?? null,
  redis_cmds_per_job: redisPerJob(warden),
  redis_roundtrips_per_job: w?.redisRoundTripsPerJob ?? null,
  bullmq_redis_cmds_per_job: redisPerJob(bull),
  bullmq_redis_roundtrips_per_job: b?.redisRoundTripsPerJob ?? null,
  ddb_ops_per_job: w?.ddbOps ?? {},
  sqs_ops_per_job: w?.sqsOps ?? {},
  s3_ops_per_job: w?.s3Ops ?? {},
  redis_ops_per_job: w?.redisOps ?? {},
  submit_ops_per_job: wSubmit ? { ...wSubmit.ddbOps, ...wSubmit.sqsOps, ...wSubmit.s3Ops } : {},
  bullmq_redis_ops_per_job: b?.redisOps ?? {},
  warden_idle: warden?.idle
    ? { supervisor_cpu_ms_per_s: round(warden.idle.cpuUsPerS / 1000, 2), redis_cmds_per_s: round(warden.idle.redisStatsPerS, 2) }
    : null,
  warden_llm_calls_per_job: warden ? round(warden.llmCalls / warden.jobs, 3) : null,
  warden_writebacks_per_job: warden ? round(warden.writebacks / warden.jobs, 3) : null,
  warden_dlq_messages: warden?.dlq ?? null,
  machine_busy_share_warden: warden ? round(warden.machineBusyShare, 3) : null,
  machine_busy_share_bullmq: bull ? round(bull.machineBusyShare, 3) : null,
  emulators_machine_share_warden: warden ? round(share(warden, 'dynalite') + share(warden, 'fauxqs'), 3) : null,
  cpu_share_warden_drain: warden ? Object.fromEntries(Object.keys(warden.cpuUs).map((name) => [name, share(warden, name)])) : {},
  cpu_share_bullmq_drain: bull ? Object.fromEntries(Object.keys(bull.cpuUs).map((name) => [name, share(bull, name)])) : {},
  profile_top_owners: warden?.profile ? warden.profile.byOwner.slice(0, 8).map((r) => ({ owner: r.bucket, share: r.share })) : null,
  elapsed_s: Math.round((Date.now() - started) / 1000),
};
print(JSON.stringify(result));
