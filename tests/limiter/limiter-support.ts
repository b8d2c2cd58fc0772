import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { LlmLimiter, type LlmLimiterOptions } from '../../src/runtime/limiter/llm-limiter.ts';
import { RedisLimiterStore } from '../../src/runtime/limiter/redis-limiter-store.ts';
import type { RedisServer } from '../../src/stack/infra/redis-server.ts';

export interface LimiterHandle {
  limiter: LlmLimiter;
  store: RedisLimiterStore;
  redis: Redis;
  close(): Promise<void>;
}

let prefixes = 0;

/** A fresh key prefix, so tests sharing one redis-server never share a bucket by accident. */
export function freshPrefix(): string {
  prefixes += 1;
  return `t${process.pid}x${prefixes}:`;
}

/** One limiter on its own Redis connection (as another process would have). */
export async function openLimiter(server: RedisServer, keyPrefix: string, options: Omit<LlmLimiterOptions, 'store'>): Promise<LimiterHandle> {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 3, lazyConnect: true });
  redis.on('error', () => undefined);
  await redis.connect();
  const store = new RedisLimiterStore({ redis, keyPrefix });
  const limiter = new LlmLimiter({ ...options, store });
  await limiter.ready();
  return {
    limiter,
    store,
    redis,
    async close() {
      await limiter.close();
      await store.close();
      await redis.quit();
    },
  };
}

/** Runs `workers` loops that acquire (and reconcile) back to back until `until` (monotonic ms). */
export async function hammer(
  limiter: LlmLimiter,
  workers: number,
  until: number,
  request: { provider?: string; model?: string; tenant?: string; priority?: 'interactive' | 'bulk'; tokens?: () => number; actual?: (estimate: number) => number },
  onAdmit: (at: number, tokens: number) => void,
): Promise<void> {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const timer = setTimeout(() => controller.abort(new Error('done')), Math.max(0, until - performance.now()));
  const loop = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      const estimate = request.tokens?.() ?? 1;
      let admission;
      try {
        admission = await limiter.acquire({
          provider: request.provider ?? 'p',
          model: request.model ?? 'm',
          tenant: request.tenant ?? 'tenant',
          priority: request.priority ?? 'interactive',
          estimatedTokens: estimate,
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        throw error;
      }
      onAdmit(performance.now(), estimate);
      if (request.actual) await admission.reconcile(request.actual(estimate));
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, loop));
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
