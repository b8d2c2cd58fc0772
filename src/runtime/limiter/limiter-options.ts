import { ValidationError } from '../../errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { LimiterStore } from './limiter-store.ts';

/** The provider's limits for one model. */
export interface BucketLimit {
  provider: string;
  model: string;
  /** Requests per minute, fleet-wide. */
  rpm: number;
  /** Tokens (prompt + completion) per minute, fleet-wide. */
  tpm: number;
}

export interface LlmLimiterOptions {
  /** Shared state: `RedisLimiterStore` in production. The limiter does not close it. */
  store: LimiterStore;
  /** One entry per (provider, model); acquiring for any other pair is a ValidationError. */
  limits: readonly BucketLimit[];
  /**
   * Share of each bucket's capacity kept for interactive work, in [0, 1). Bulk starts only while
   * the level (after every earlier booking) stays above it; interactive may use everything.
   * Default 0.2.
   */
  bulkReserveFraction?: number;
  /** Most of a bucket's rpm and tpm one tenant (base) may use, in (0, 1]; 1 = no cap. Default 0.25. */
  tenantShare?: number;
  /**
   * Capacity of the buckets in ms of their rate: how much unused rate is saved up for a burst.
   * Keep it under the provider's own enforcement window. Default 5000.
   */
  burstMs?: number;
  /**
   * Longest start delay an interactive admission may be booked with in one round trip; a longer
   * wait is refused and retried later. Bulk books at most `bulkReserveFraction * burstMs` ahead,
   * so its bookings never take what interactive could start on at once. Default 10 000.
   */
  maxBookAheadMs?: number;
  /** Cap on a pause from a provider's retry-after, against absurd hints. Default 120 000. */
  maxPauseMs?: number;
  /** Random extra delay, up to this, on every retry so waiters do not come back in step. Default 20. */
  retryJitterMs?: number;
  /**
   * Longest an admission attempt waits for others of this process to share its store call. Jobs
   * reach the limiter in clusters (a receive batch, a worker-thread round), so a few ms gather
   * most of a cluster; it is added to no wait that a booking or a line imposes anyway. Default 5.
   */
  batchWindowMs?: number;
  /** An attempt that brings the waiting batch to this size sends it at once (integer >= 1). Default 64. */
  maxBatch?: number;
  /**
   * Longest a reconcile or a handed-back booking waits for an admission call to carry it before it
   * is sent on its own. Also the bound on how stale the bucket is about this process' usage: at
   * most what it reconciles in this long. Default 200.
   */
  adjustFlushMs?: number;
  /** How long `close()` waits for store calls in flight and the last flush of adjustments. Default 2000. */
  closeTimeoutMs?: number;
  /** Default: the system clock. Only `monotonicMs` is used (local pause bookkeeping, wait times). */
  clock?: Clock;
  /** Default Math.random; for jitter. */
  random?: () => number;
  /** Failures of store calls that carried adjustments (reconciles, refunds). Default: ignored. */
  onError?: (error: unknown) => void;
}

export interface ResolvedLimiterOptions {
  store: LimiterStore;
  limits: readonly BucketLimit[];
  bulkReserveFraction: number;
  tenantShare: number;
  burstMs: number;
  maxBookAheadMs: number;
  maxPauseMs: number;
  retryJitterMs: number;
  batchWindowMs: number;
  maxBatch: number;
  adjustFlushMs: number;
  closeTimeoutMs: number;
  clock: Clock;
  random: () => number;
  onError: (error: unknown) => void;
}

export const LIMITER_DEFAULTS = {
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
} as const;

function invalid(field: string, expected: string, value: unknown): never {
  throw new ValidationError('limiter_option_invalid', `LlmLimiter: options.${field} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, { field });
}

function number(field: string, value: unknown, fallback: number, ok: (n: number) => boolean, expected: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) invalid(field, expected, value);
  return value;
}

export function resolveLimiterOptions(options: LlmLimiterOptions): ResolvedLimiterOptions {
  if (options === null || typeof options !== 'object') invalid('', 'an object', options);
  const store = options.store;
  if (store === null || typeof store !== 'object' || typeof store.admit !== 'function') invalid('store', 'a LimiterStore', typeof store);
  if (!Array.isArray(options.limits) || options.limits.length === 0) invalid('limits', 'a non-empty array of {provider, model, rpm, tpm}', options.limits);
  const seen = new Set<string>();
  const limits = options.limits.map((limit: BucketLimit, i: number) => {
    const field = `limits[${i}]`;
    if (limit === null || typeof limit !== 'object') invalid(field, 'an object {provider, model, rpm, tpm}', limit);
    if (typeof limit.provider !== 'string' || limit.provider === '') invalid(`${field}.provider`, 'a non-empty string', limit.provider);
    if (typeof limit.model !== 'string' || limit.model === '') invalid(`${field}.model`, 'a non-empty string', limit.model);
    for (const rate of ['rpm', 'tpm'] as const) {
      const value: unknown = limit[rate];
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) invalid(`${field}.${rate}`, 'a positive number', value);
    }
    const key = JSON.stringify([limit.provider, limit.model]);
    if (seen.has(key)) invalid(field, `a (provider, model) pair listed once; ${limit.provider}/${limit.model} is listed twice`, limit);
    seen.add(key);
    return { provider: limit.provider, model: limit.model, rpm: limit.rpm, tpm: limit.tpm };
  });
  const d = LIMITER_DEFAULTS;
  const resolved: ResolvedLimiterOptions = {
    store,
    limits,
    bulkReserveFraction: number('bulkReserveFraction', options.bulkReserveFraction, d.bulkReserveFraction, (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    tenantShare: number('tenantShare', options.tenantShare, d.tenantShare, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
    burstMs: number('burstMs', options.burstMs, d.burstMs, (n) => n >= 1, 'a number of ms >= 1'),
    maxBookAheadMs: number('maxBookAheadMs', options.maxBookAheadMs, d.maxBookAheadMs, (n) => n >= 0, 'a number of ms >= 0'),
    maxPauseMs: number('maxPauseMs', options.maxPauseMs, d.maxPauseMs, (n) => n >= 1, 'a number of ms >= 1'),
    retryJitterMs: number('retryJitterMs', options.retryJitterMs, d.retryJitterMs, (n) => n >= 0, 'a number of ms >= 0'),
    batchWindowMs: number('batchWindowMs', options.batchWindowMs, d.batchWindowMs, (n) => n >= 0, 'a number of ms >= 0'),
    maxBatch: number('maxBatch', options.maxBatch, d.maxBatch, (n) => Number.isInteger(n) && n >= 1 && n <= 512, 'an integer in [1, 512]'),
    adjustFlushMs: number('adjustFlushMs', options.adjustFlushMs, d.adjustFlushMs, (n) => n >= 0, 'a number of ms >= 0'),
    closeTimeoutMs: number('closeTimeoutMs', options.closeTimeoutMs, d.closeTimeoutMs, (n) => n >= 0, 'a number of ms >= 0'),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    onError: options.onError ?? (() => undefined),
  };
  if (typeof resolved.clock.monotonicMs !== 'function') invalid('clock', 'a Clock', typeof resolved.clock);
  if (typeof resolved.random !== 'function') invalid('random', 'a function', typeof resolved.random);
  if (typeof resolved.onError !== 'function') invalid('onError', 'a function', typeof resolved.onError);
  return resolved;
}
