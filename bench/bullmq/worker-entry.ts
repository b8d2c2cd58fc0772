/**
 * One BullMQ worker process for the side-by-side benchmarks, doing warden's job work (job-work.ts)
 * on the same redis-server. Started with fork(); configured by one JSON argument:
 *   { redisUrl, queue, concurrency, member, llmUrl, recordsUrl, promptsDir, model, llmTimeoutMs,
 *     autorun, lockDuration?, stalledInterval?, maxStalledCount? }
 * IPC in:  {type:'run'} starts (or resumes) consuming; {type:'pause'} pauses after the active jobs;
 *          {type:'stats'} asks for counters; {type:'close'} closes the worker and exits.
 * IPC out: {type:'ready'}, {type:'stats', completed, failed, outcomes, cpuUs}, {type:'paused'}.
 * Exits when the IPC channel closes (the driver died or killed it).
 */
import { appendFileSync } from 'node:fs';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import { JobWork, type JobWorkOutcome } from './job-work.ts';

export interface BullWorkerConfig {
  redisUrl: string;
  queue: string;
  concurrency: number;
  member: string;
  llmUrl: string;
  recordsUrl: string;
  promptsDir: string;
  model: string;
  llmTimeoutMs: number;
  autorun: boolean;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
  /** Append each completed job id to this file (it survives a Redis wipe and a kill -9). */
  completedLog?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as BullWorkerConfig;
if (typeof process.send !== 'function') {
  console.error('bullmq worker-entry: needs an IPC channel (fork)');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));

const work = new JobWork({
  llmUrl: config.llmUrl,
  recordsUrl: config.recordsUrl,
  promptsDir: config.promptsDir,
  model: config.model,
  member: config.member,
  llmTimeoutMs: config.llmTimeoutMs,
});
const outcomes: Record<JobWorkOutcome, number> = { written: 0, already_written: 0, superseded: 0, record_gone: 0 };
let completed = 0;
let failed = 0;
const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const worker = new Worker(
  config.queue,
  async (job: Job<GenerationRequest>) => {
    const outcome = await work.run(job.data);
    outcomes[outcome] += 1;
    return outcome;
  },
  {
    connection,
    concurrency: config.concurrency,
    autorun: config.autorun,
    ...(config.lockDuration ? { lockDuration: config.lockDuration } : {}),
    ...(config.stalledInterval ? { stalledInterval: config.stalledInterval } : {}),
    ...(config.maxStalledCount !== undefined ? { maxStalledCount: config.maxStalledCount } : {}),
  },
);
worker.on('completed', (job) => {
  completed += 1;
  if (config.completedLog && job?.id) appendFileSync(config.completedLog, `${job.id}\n`);
});
worker.on('failed', () => (failed += 1));
worker.on('error', (error) => console.error(`bullmq worker ${config.member}: ${error.message}`));

let running = config.autorun;
process.on('message', async (message: { type?: string }) => {
  switch (message?.type) {
    case 'run':
      if (!running) {
        running = true;
        void worker.run().catch((error) => console.error(`bullmq worker ${config.member}: run: ${(error as Error).message}`));
      } else if (worker.isPaused()) worker.resume();
      return;
    case 'pause':
      await worker.pause(false);
      process.send?.({ type: 'paused' });
      return;
    case 'stats': {
      const cpu = process.cpuUsage();
      process.send?.({ type: 'stats', completed, failed, outcomes, cpuUs: cpu.user + cpu.system });
      return;
    }
    case 'close':
      await worker.close().catch(() => undefined);
      await work.close().catch(() => undefined);
      connection.disconnect();
      process.exit(0);
  }
});
await worker.waitUntilReady();
process.send({ type: 'ready' });
