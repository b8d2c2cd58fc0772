/**
 * One bench process: `concurrency` acquirers hammer the one bucket, each reconciling with a random
 * actual usage right after admission (no LLM call: the limiter is the only thing measured).
 */
import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import type { LimiterStore } from '../../src/runtime/limiter/limiter-store.ts';
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
  const redisStore = new RedisLimiterStore({ redis, keyPrefix: config.keyPrefix, onError: () => (errors += 1) });
  // Counts the store calls (each one Redis round trip) made inside the measured window.
  let window = { from: Infinity, to: Infinity };
  const calls = { admit: 0, attempts: 0, adjust: 0, other: 0 };
  const inWindow = (): boolean => {
    const now = Date.now();
    return now >= window.from && now < window.to;
  };
  const store: LimiterStore = {
    admit: (bucket, attempts, adjustments) => {
      if (inWindow()) {
        calls.admit += 1;
        calls.attempts += attempts.length;
      }
      return redisStore.admit(bucket, attempts, adjustments);
    },
    adjust: (bucket, adjustments) => {
      if (inWindow()) calls.adjust += 1;
      return redisStore.adjust(bucket, adjustments);
    },
    pause: (bucket, ms) => {
      if (inWindow()) calls.other += 1;
      return redisStore.pause(bucket, ms);
    },
    inspect: (bucket) => {
      if (inWindow()) calls.other += 1;
      return redisStore.inspect(bucket);
    },
    onPause: (listener) => redisStore.onPause(listener),
    ready: () => redisStore.ready(),
    close: () => redisStore.close(),
  };
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

  window = { from: start.measureFrom, to: start.measureTo };
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const counters = { admissions: 0, estimatedTokens: 0, actualTokens: 0, reconciles: 0 };
  const waits = { interactive: [] as number[], bulk: [] as number[] };
  // Keep the load on past the window, so that stopping (which hands back the bookings still
  // waiting) happens outside it.
  const stopTimer = setTimeout(() => stop.abort(new Error('bench over')), start.measureTo + start.graceMs - Date.now());

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
        if (actual !== estimate) counters.reconciles += 1;
        waits[priority].push(admission.waitedMs);
      }
      void admission.reconcile(actual);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, (_, i) => acquirer(i)));
  clearTimeout(stopTimer);

  const result: WorkerResult = {
    type: 'result',
    worker: config.worker,
    ...counters,
    attempts: calls.attempts,
    admitCalls: calls.admit,
    adjustCalls: calls.adjust,
    otherCalls: calls.other,
    waits: { interactive: stats(waits.interactive), bulk: stats(waits.bulk) },
    errors,
  };
  await limiter.close();
  await redisStore.close();
  await redis.quit();
  process.send?.(result, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
