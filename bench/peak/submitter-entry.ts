/**
 * The stack-mode load generator in its own process: submits streams of jobs through the ingest
 * path (submitJob: S3 context, conditional PutItem, SendMessage) against the emulators, open loop
 * (by the clock, at most `maxOutstanding` in flight per stream), so that the benchmark driver,
 * which hosts the simulated LLM and record store, keeps its event loop for them.
 * IPC in: {type:'start', t0} · out: {type:'progress', sent, errors} every second,
 * {type:'done', submitAt: number[][], lagMax: number[], errors: number[], submitted: number[]}.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { submitJob } from '../../src/ingest/submit-job.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { createRuntime } from '../../src/runtime/runtime-context.ts';
import { benchRecord, benchRequest, contextPool } from '../common/bench-workload.ts';
import type { Stream } from './run-load.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { configPath: string; logFile: string; streams: Stream[]; maxOutstanding: number };
if (typeof process.send !== 'function') process.exit(2);
process.on('disconnect', () => process.exit(0));
const config = loadConfig(args.configPath);
const runtime = await createRuntime(config, { log: createLogger({ level: 'warn', service: 'bench-submitter', destination: pino.destination(args.logFile) }) });
const deps = ingestDeps(runtime);
const streams = args.streams.map((stream) => ({
  ...stream,
  scheduled: Math.floor(stream.rate * stream.durationS),
  submitAt: [] as number[],
  sent: 0,
  outstanding: 0,
  submitted: 0,
  errors: 0,
  lagMax: 0,
  contexts: stream.contextBytes > 0 ? contextPool(stream.contextBytes) : [],
}));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

process.once('message', async (message: { type?: string; t0?: number }) => {
  if (message?.type !== 'start' || typeof message.t0 !== 'number') return;
  const t0 = message.t0;
  const end = Math.max(...streams.map((s) => s.startS + s.durationS)) * 1000;
  const progress = setInterval(() => process.send?.({ type: 'progress', sent: streams.map((s) => s.sent), errors: streams.map((s) => s.errors) }), 1000);
  for (;;) {
    const now = Date.now();
    for (const stream of streams) {
      const due = Math.min(stream.scheduled, Math.max(0, Math.floor(((now - t0 - stream.startS * 1000) / 1000) * stream.rate)));
      while (stream.sent < due && stream.outstanding < args.maxOutstanding) {
        const i = stream.sent++;
        stream.lagMax = Math.max(stream.lagMax, now - (t0 + stream.startS * 1000 + (i / stream.rate) * 1000));
        stream.submitAt[i] = now;
        stream.outstanding += 1;
        const context = stream.contexts.length > 0 ? stream.contexts[i % stream.contexts.length] : undefined;
        const request = benchRequest(benchRecord(stream.prefix, i), {
          ...(context ? { context } : {}),
          priority: stream.priority,
          source: stream.priority === 'bulk' ? 'backfill' : 'automation',
        });
        submitJob(deps, request)
          .then(() => (stream.submitted += 1), () => (stream.errors += 1))
          .finally(() => (stream.outstanding -= 1));
      }
    }
    if (now - t0 >= end) break;
    await sleep(10);
  }
  const deadline = Date.now() + 60_000;
  while (streams.some((s) => s.outstanding > 0) && Date.now() < deadline) await sleep(50);
  clearInterval(progress);
  process.send?.({
    type: 'done',
    submitAt: streams.map((s) => s.submitAt),
    lagMax: streams.map((s) => Math.round(s.lagMax)),
    errors: streams.map((s) => s.errors),
    submitted: streams.map((s) => s.submitted),
  });
  await runtime.close().catch(() => undefined);
});
process.send({ type: 'ready' });
