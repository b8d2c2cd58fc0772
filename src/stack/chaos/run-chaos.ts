import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { ingestDeps } from '../../ingest/ingest-deps.ts';
import { WardenProducer } from '../../ingest/producer.ts';
import { submitJob } from '../../ingest/submit-job.ts';
import { isTerminal } from '../../jobs/job-states.ts';
import { createLogger } from '../../runtime/logger.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { startLocalStack } from '../local-stack.ts';
import { mulberry32 } from '../sim-llm/random.ts';
import { buildWorkload } from '../demo/workload.ts';
import { illegalTransitions, recoveryTimes, runningAtFault, scanJobs } from './audit-check.ts';
import { Fleet } from './fleet.ts';
import { percentile } from '../percentile.ts';

export interface ChaosOptions {
  jobs: number;
  supervisors: number;
  /** Seconds over which submissions and faults are spread. */
  spreadS: number;
  kills: number;
  pauses: number;
  redisRestarts: number;
  timeScale: number;
  seed: number;
  leaseTtlMs: number;
  deadlineS: number;
  workDir: string;
  print: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/**
 * The chaos scenario: a fleet of supervisor processes on the local stack, a workload with
 * duplicates and mid-flight edits, and real faults (kill -9, SIGSTOP past the lease TTL, a Redis
 * restart that loses every key, members joining and leaving). Verdict counted at the simulators
 * and read from the jobs table, never from the runtime's own counters.
 */
export async function runChaos(options: ChaosOptions) {
  const started = Date.now();
  const dir = resolve(options.workDir);
  mkdirSync(dir, { recursive: true });
  const random = mulberry32(options.seed);
  const stack = await startLocalStack({
    partitions: 8,
    timeScale: options.timeScale,
    timeoutRate: 0,
    mode: 'child',
    configOverrides: (config) => {
      config['metrics'] = { output: join(dir, 'metrics.emf'), flushIntervalMs: 5000 };
      config['actor'] = { concurrency: 64 };
      config['leases'] = { ttlMs: options.leaseTtlMs, memberTtlMs: options.leaseTtlMs, rebalanceIntervalMs: 500 };
      config['queues'] = { ...config['queues'], visibilityTimeoutS: 20 };
      // The simulator never hangs here (timeoutRate 0): a generous client timeout keeps a loaded
      // machine's scheduling delays from passing for provider timeouts (and their retries).
      config['llm'] = { ...config['llm'], timeoutMs: 30_000, firstByteTimeoutMs: 30_000 };
    },
  });
  const configPath = stack.writeConfig(join(dir, 'config.json'));
  const runtime = await createRuntime(stack.config, { log: createLogger({ level: 'warn', service: 'chaos-driver', destination: pino.destination(join(dir, 'driver.log')) }) });
  const producer = new WardenProducer({ payloads: runtime.payloads, cipher: runtime.cipher, queueFor: (p) => runtime.queueFor(p), partitions: stack.config.partitions });
  const fleet = new Fleet(configPath, dir, stack.llm);
  try {
    for (let slot = 1; slot <= options.supervisors; slot += 1) await fleet.start(slot);
    const workload = buildWorkload({ total: options.jobs, seed: options.seed, spreadMs: options.spreadS * 1000 });
    for (const record of workload.records) stack.records.putRecord(record.base_id, record.table_id, record.record_id, record.fields);
    options.print(`chaos: ${options.supervisors} supervisors, ${workload.submissions.length} submissions over ${options.spreadS} s, logs in ${dir}`);
    const ids = new Set<string>();
    const t0 = Date.now();
    const work: Array<Promise<unknown>> = [];
    const at = (ms: number, fn: () => Promise<unknown> | void) => work.push(sleep(ms).then(fn));
    let submitErrors = 0;
    for (const submission of workload.submissions) {
      at(submission.atMs, async () => {
        // A real client retries a submission that failed (the machine is busy killing things).
        for (let attempt = 1; attempt <= 5; attempt += 1) {
          try {
            if (submission.via === 'producer') ids.add((await producer.submit(submission.request)).job_id);
            else ids.add((await submitJob(ingestDeps(runtime), submission.request)).job.id);
            return;
          } catch {
            await sleep(500 * attempt);
          }
        }
        submitErrors += 1;
      });
    }
    for (const edit of workload.edits) {
      at(edit.atMs, () => {
        const { record } = edit;
        const fields = edit.kind === 'input' ? { fldNotes: `${record.fields['fldNotes']} (edited)` } : { fldStatus: 'touched' };
        stack.records.editRecord(record.base_id, record.table_id, record.record_id, fields);
      });
    }
    const span = options.spreadS * 1000;
    const slots = () => [...fleet.members.keys()];
    const pick = () => slots()[Math.floor(random() * slots().length)] as number;
    for (let i = 0; i < options.kills; i += 1) {
      at(span * (0.15 + (0.6 * i) / Math.max(1, options.kills)), async () => {
        const slot = pick();
        fleet.kill(slot);
        options.print(`  t=${((Date.now() - t0) / 1000).toFixed(1)}s kill -9 supervisor ${slot}`);
        await sleep(2000);
        fleet.noteJoin(await fleet.start(slot));
      });
    }
    for (let i = 0; i < options.pauses; i += 1) {
      at(span * (0.3 + (0.5 * i) / Math.max(1, options.pauses)), async () => {
        const slot = pick();
        fleet.pause(slot);
        options.print(`  t=${((Date.now() - t0) / 1000).toFixed(1)}s SIGSTOP supervisor ${slot} for ${options.leaseTtlMs * 2} ms`);
        await sleep(options.leaseTtlMs * 2);
        fleet.resume(slot);
      });
    }
    for (let i = 0; i < options.redisRestarts; i += 1) {
      at(span * (0.5 + 0.3 * i), async () => {
        fleet.noteRedisRestart();
        await stack.infra.redis.restart({ wipe: true });
        options.print(`  t=${((Date.now() - t0) / 1000).toFixed(1)}s redis restarted with its data gone`);
      });
    }
    at(span * 0.6, async () => {
      const slot = options.supervisors + 1;
      fleet.noteJoin(await fleet.start(slot));
      options.print(`  t=${((Date.now() - t0) / 1000).toFixed(1)}s supervisor ${slot} joins`);
    });
    at(span * 0.85, async () => {
      options.print(`  t=${((Date.now() - t0) / 1000).toFixed(1)}s supervisor 1 leaves (SIGTERM, drain)`);
      await fleet.leave(1, 30_000);
    });
    await Promise.allSettled(work);
    let jobs = await scanJobs(runtime.aws.doc, stack.config.tables.jobs);
    while (Date.now() - started < options.deadlineS * 1000) {
      const open = [...ids].filter((id) => !jobs.some((job) => job.id === id && isTerminal(job.state)));
      options.print(`  t=${((Date.now() - t0) / 1000).toFixed(0)}s waiting for ${open.length} unfinished jobs; llm in flight ${stack.llm.inFlightCount()}`);
      if (open.length === 0) break;
      await sleep(2000);
      jobs = await scanJobs(runtime.aws.doc, stack.config.tables.jobs);
    }
    const byId = new Map(jobs.map((job) => [job.id, job]));
    const lost = [...ids].filter((id) => !isTerminal(byId.get(id)?.state ?? 'queued')).length;
    const recovery = recoveryTimes(jobs, fleet.faults);
    const victimFaults = fleet.faults.filter((f) => f.kind === 'kill' || f.kind === 'pause');
    const llm = stack.llm.stats();
    const records = stack.records.stats();
    return {
      jobs: ids.size,
      submissions: workload.submissions.length,
      kills: fleet.faults.filter((f) => f.kind === 'kill').length,
      pauses: fleet.faults.filter((f) => f.kind === 'pause').length,
      redis_restarts: fleet.faults.filter((f) => f.kind === 'redis_restart').length,
      joins: fleet.faults.filter((f) => f.kind === 'join').length,
      leaves: fleet.faults.filter((f) => f.kind === 'leave').length,
      lost,
      submit_errors: submitErrors,
      succeeded: jobs.filter((job) => job.state === 'succeeded').length,
      superseded: jobs.filter((job) => job.state === 'superseded').length,
      failed_or_dead: jobs.filter((job) => job.state === 'failed' || job.state === 'dead_lettered').length,
      llm_calls: llm.calls,
      writebacks: records.writebacks,
      duplicate_writebacks: records.duplicateWritebacks,
      stale_writebacks: records.staleWritebacks,
      duplicate_llm_calls: llm.duplicateCalls,
      inflight_at_faults: victimFaults.reduce((sum, f) => sum + Math.max(f.llmInFlight, runningAtFault(jobs, f)), 0),
      inflight_at_faults_seen_by_llm: victimFaults.reduce((sum, f) => sum + f.llmInFlight, 0),
      recovery_p50_ms: percentile(recovery, 50),
      recovery_p99_ms: percentile(recovery, 99),
      recovered_jobs: recovery.length,
      illegal_transitions: jobs.reduce((sum, job) => sum + illegalTransitions(job), 0),
      elapsed_ms: Date.now() - started,
    };
  } finally {
    await fleet.stopAll(20_000);
    await runtime.close();
    await stack.stop();
  }
}

export type ChaosReport = Awaited<ReturnType<typeof runChaos>>;
