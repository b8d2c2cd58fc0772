import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import { LIMITER_DEFAULTS } from '../../src/runtime/limiter/limiter-options.ts';
import type { LimiterStore } from '../../src/runtime/limiter/limiter-store.ts';
import { LlmLimiter, type LlmLimiterOptions } from '../../src/runtime/limiter/llm-limiter.ts';
import { RedisLimiterStore } from '../../src/runtime/limiter/redis-limiter-store.ts';

/** Enough of a store for construction and request validation; any admission would be a bug. */
const store: LimiterStore = {
  admit: () => Promise.reject(new Error('not in this test')),
  adjust: () => Promise.resolve(),
  pause: () => Promise.reject(new Error('not in this test')),
  inspect: () => Promise.reject(new Error('not in this test')),
  onPause: () => () => undefined,
  ready: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
const limits = [{ provider: 'openai', model: 'gpt-4o-mini', rpm: 6000, tpm: 600_000 }];

describe('LlmLimiter options and requests', () => {
  const rejects = (options: Partial<LlmLimiterOptions>, field: RegExp): void => {
    assert.throws(() => new LlmLimiter({ store, limits, ...options } as LlmLimiterOptions), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.code, 'limiter_option_invalid');
      assert.match(error.message, field);
      return true;
    });
  };

  it('documents its defaults', () => {
    assert.deepEqual(LIMITER_DEFAULTS, {
      bulkReserveFraction: 0.2,
      tenantShare: 0.25,
      burstMs: 5000,
      maxBookAheadMs: 10_000,
      maxPauseMs: 120_000,
      retryJitterMs: 20,
      batchWindowMs: 5,
      maxBatch: 64,
      adjustFlushMs: 200,
      closeTimeoutMs: 2000,
    });
  });

  it('rejects bad options at construction, naming the field', () => {
    rejects({ limits: [] }, /options\.limits must be a non-empty array/);
    rejects({ limits: [{ provider: 'openai', model: 'm', rpm: 0, tpm: 1 }] }, /options\.limits\[0\]\.rpm must be a positive number, got 0/);
    rejects({ limits: [{ provider: 'openai', model: 'm', rpm: 1 } as never] }, /options\.limits\[0\]\.tpm must be a positive number/);
    rejects({ limits: [{ provider: '', model: 'm', rpm: 1, tpm: 1 }] }, /options\.limits\[0\]\.provider/);
    rejects({ limits: [...limits, ...limits] }, /options\.limits\[1\] must be a \(provider, model\) pair listed once/);
    rejects({ bulkReserveFraction: 1 }, /options\.bulkReserveFraction must be a number in \[0, 1\), got 1/);
    rejects({ tenantShare: 0 }, /options\.tenantShare must be a number in \(0, 1\]/);
    rejects({ tenantShare: 1.5 }, /options\.tenantShare/);
    rejects({ burstMs: Number.NaN }, /options\.burstMs/);
    rejects({ maxBookAheadMs: -1 }, /options\.maxBookAheadMs/);
    rejects({ batchWindowMs: -1 }, /options\.batchWindowMs must be a number of ms >= 0/);
    rejects({ maxBatch: 0 }, /options\.maxBatch must be an integer in \[1, 512\], got 0/);
    rejects({ maxBatch: 2.5 }, /options\.maxBatch/);
    rejects({ adjustFlushMs: Number.POSITIVE_INFINITY }, /options\.adjustFlushMs/);
    rejects({ store: {} as LimiterStore }, /options\.store must be a LimiterStore/);
    const redis = { evalsha: () => undefined } as never;
    assert.throws(() => new RedisLimiterStore({ redis, tenantSweepMs: 0 }), /options\.tenantSweepMs must be a number of ms >= 1, got 0/);
  });

  it('rejects bad requests with a ValidationError naming the field', async () => {
    const limiter = new LlmLimiter({ store, limits });
    const base = { provider: 'openai', model: 'gpt-4o-mini', tenant: 'app1', priority: 'interactive' as const, estimatedTokens: 100 };
    await assert.rejects(limiter.acquire({ ...base, model: 'other' }), { code: 'limiter_unknown_bucket' });
    await assert.rejects(limiter.acquire({ ...base, tenant: '' }), /tenant must be a non-empty string/);
    await assert.rejects(limiter.acquire({ ...base, priority: 'urgent' as never }), /priority must be 'interactive' or 'bulk'/);
    await assert.rejects(limiter.acquire({ ...base, estimatedTokens: -1 }), /estimatedTokens must be a number >= 0/);
    await assert.rejects(limiter.pause('openai', 'gpt-4o-mini', 0), /retryAfterMs must be a number > 0/);
    await limiter.close();
  });
});
