import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import type { AdmitAttempt, AdmitReply, Adjustment, BucketSpec, BucketState, LimiterStore, PauseListener } from '../../src/runtime/limiter/limiter-store.ts';
import { LlmLimiter, type LlmLimiterOptions } from '../../src/runtime/limiter/llm-limiter.ts';
import { RedisLimiterStore } from '../../src/runtime/limiter/redis-limiter-store.ts';
import type { RedisServer } from '../../src/stack/infra/redis-server.ts';

export interface LimiterHandle {
  limiter: LlmLimiter;
  store: RedisLimiterStore;
  /** What the limiter talks to: `store`, counted. */
  counted: CountingStore;
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
export async function openLimiter(server: RedisServer, keyPrefix: string, options: Omit<LlmLimiterOptions, 'store'>, storeOptions: { tenantSweepMs?: number } = {}): Promise<LimiterHandle> {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 3, lazyConnect: true });
  redis.on('error', () => undefined);
  await redis.connect();
  const store = new RedisLimiterStore({ redis, keyPrefix, ...storeOptions });
  const counted = new CountingStore(store);
  const limiter = new LlmLimiter({ ...options, store: counted });
  await limiter.ready();
  return {
    limiter,
    store,
    counted,
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
      // Fire-and-forget, as the gate does: the next admission call carries it.
      if (request.actual) void admission.reconcile(request.actual(estimate));
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, loop));
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A store that counts what reaches it and can hold each admission call's reply back a while. */
export class CountingStore implements LimiterStore {
  readonly admitCalls: number[] = [];
  adjustCalls = 0;
  adjustmentsCarried = 0;
  replyDelayMs = 0;

  constructor(private readonly inner: LimiterStore) {}

  async admit(bucket: BucketSpec, attempts: readonly AdmitAttempt[], adjustments: readonly Adjustment[]): Promise<AdmitReply[]> {
    this.admitCalls.push(attempts.length);
    this.adjustmentsCarried += adjustments.length;
    const replies = await this.inner.admit(bucket, attempts, adjustments);
    if (this.replyDelayMs > 0) await sleep(this.replyDelayMs);
    return replies;
  }

  adjust(bucket: BucketSpec, adjustments: readonly Adjustment[]): Promise<void> {
    this.adjustCalls += 1;
    return this.inner.adjust(bucket, adjustments);
  }

  pause(bucket: BucketSpec, pauseMs: number): Promise<number> {
    return this.inner.pause(bucket, pauseMs);
  }

  inspect(bucket: BucketSpec): Promise<BucketState> {
    return this.inner.inspect(bucket);
  }

  onPause(listener: PauseListener): () => void {
    return this.inner.onPause(listener);
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
