/**
 * One bench process: `concurrency` acquirers hammer the one bucket, each reconciling with a random
 * actual usage right after admission (no LLM call: the limiter is the only thing measured).
 */
import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { LlmLimiter } from '../../src/runtime/limiter/llm-limiter.ts';
import { RedisLimiterStore } from '../../src/runtime/limiter/redis-limiter-store.ts';
import { BUCKET, type StartMessage, type WaitStats, type WorkerConfig, type WorkerResult } from './bench-config.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;

function stats(values: number[]): WaitStats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

async function main(): Promise<void> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  let errors = 0;
  redis.on('error', () => {
    errors += 1;
  });
  await redis.connect();
  const store = new RedisLimiterStore({ redis, keyPrefix: config.keyPrefix, onError: () => (errors += 1) });
  const limiter = new LlmLimiter({
    store,
    limits: [{ ...BUCKET, rpm: config.rpm, tpm: config.tpm }],
    burstMs: config.burstMs,
    bulkReserveFraction: config.bulkReserveFraction,
    tenantShare: config.tenantShare,
    onError: () => (errors += 1),
  });
  await limiter.ready();

  const start = await new Promise<StartMessage>((resolve) => {
    process.on('message', (message: StartMessage) => {
      if (message?.type === 'start') resolve(message);
    });
    process.send?.({ type: 'ready', worker: config.worker });
  });

  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const counters = { admissions: 0, estimatedTokens: 0, actualTokens: 0 };
  const waits = { interactive: [] as number[], bulk: [] as number[] };
  let atFrom = { storeCalls: 0, reconciles: 0, refusedAttempts: 0 };
  let atTo = atFrom;
  const local = async () => (await limiter.snapshot()).local;
  const fromTimer = setTimeout(async () => {
    atFrom = await local();
  }, start.measureFrom - Date.now());
  const toTimer = setTimeout(async () => {
    atTo = await local();
    stop.abort(new Error('bench over'));
  }, start.measureTo - Date.now());

  const random = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));
  const acquirer = async (index: number): Promise<void> => {
    const priority = config.priority === 'mixed' ? (index % 5 === 0 ? 'interactive' : 'bulk') : config.priority;
    while (!stop.signal.aborted) {
      const estimate = random(config.minTokens, config.maxTokens);
      let admission;
      try {
        admission = await limiter.acquire({
          ...BUCKET,
          tenant: `tenant${random(0, config.tenants - 1)}`,
          priority,
          estimatedTokens: estimate,
          signal: stop.signal,
        });
      } catch (error) {
        if (stop.signal.aborted) return;
        errors += 1;
        continue;
      }
      const now = Date.now();
      // The provider's usage differs from the estimate both ways (±30%).
      const actual = Math.round(estimate * (0.7 + 0.6 * Math.random()));
      if (now >= start.measureFrom && now < start.measureTo) {
        counters.admissions += 1;
        counters.estimatedTokens += estimate;
        counters.actualTokens += actual;
        waits[priority].push(admission.waitedMs);
      }
      void admission.reconcile(actual);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, (_, i) => acquirer(i)));
  clearTimeout(fromTimer);
  clearTimeout(toTimer);

  const result: WorkerResult = {
    type: 'result',
    worker: config.worker,
    ...counters,
    storeCalls: atTo.storeCalls - atFrom.storeCalls,
    reconciles: atTo.reconciles - atFrom.reconciles,
    refusedAttempts: atTo.refusedAttempts - atFrom.refusedAttempts,
    waits: { interactive: stats(waits.interactive), bulk: stats(waits.bulk) },
    errors,
  };
  await limiter.close();
  await store.close();
  await redis.quit();
  process.send?.(result, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
