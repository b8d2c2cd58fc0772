import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { FleetLlmGate, openGate, type LlmGate } from '../actors/llm-gate.ts';
import type { WardenConfig } from '../config/config-schema.ts';
import { CircuitBreaker } from './breaker/circuit-breaker.ts';
import { RedisBreakerStore } from './breaker/redis-breaker-store.ts';
import { LlmLimiter } from './limiter/llm-limiter.ts';
import { RedisLimiterStore } from './limiter/redis-limiter-store.ts';

/** The breaker and limiter in front of the configured provider, both shared through Redis. */
export async function buildGate(config: WardenConfig, redis: Redis, log: Logger): Promise<{ gate: LlmGate; close: () => Promise<void> }> {
  if (!config.limiter.enabled && !config.breaker.enabled) return { gate: openGate, close: async () => undefined };
  const onError = (error: unknown) => log.warn({ err: error }, 'limiter or breaker store error');
  const limiterStore = new RedisLimiterStore({ redis, keyPrefix: '{warden}:limiter:', onError });
  const limiter = new LlmLimiter({
    store: limiterStore,
    limits: [{ provider: config.llm.name, model: config.llm.model, rpm: config.limiter.enabled ? config.limiter.rpm : 1e8, tpm: config.limiter.enabled ? config.limiter.tpm : 1e10 }],
    bulkReserveFraction: config.limiter.bulkReserveFraction,
    tenantShare: config.limiter.enabled ? config.limiter.tenantShare : 1,
    onError,
  });
  await limiter.ready();
  const breaker = new CircuitBreaker({
    store: new RedisBreakerStore({ redis, keyPrefix: '{warden}:breaker:' }),
    provider: config.llm.name,
    failureRateThreshold: config.breaker.enabled ? config.breaker.failureRateThreshold : 1,
    minimumRequests: config.breaker.enabled ? config.breaker.minimumRequests : 1e9,
    windowMs: config.breaker.windowMs,
    bucketMs: config.breaker.bucketMs,
    openMs: config.breaker.openMs,
    onError,
  });
  return {
    gate: new FleetLlmGate(breaker, limiter, config.llm.name, config.llm.model),
    async close() {
      await limiter.close();
      await breaker.close();
      await limiterStore.close();
    },
  };
}
