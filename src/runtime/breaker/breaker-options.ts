import { ValidationError } from '../../errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { BreakerPolicy, BreakerStore } from './breaker-store.ts';

export interface CircuitBreakerOptions {
  /** Shared state: `RedisBreakerStore` in production. */
  store: BreakerStore;
  /** The provider this breaker guards (one breaker per provider, shared by the fleet). */
  provider: string;
  /** Open when failures / calls in the window reach this, in (0, 1]. Default 0.5. */
  failureRateThreshold?: number;
  /** Calls the window must hold before the rate counts (integer >= 1). Default 20. */
  minimumRequests?: number;
  /** Rolling window, a whole multiple of `bucketMs`. Default 60 000. */
  windowMs?: number;
  /** Granularity of the window. Default 10 000. */
  bucketMs?: number;
  /** Cool-down while open before probing. Default 30 000. */
  openMs?: number;
  /** Probe calls let through at once while half-open (integer >= 1). Default 1. */
  halfOpenProbes?: number;
  /** A probe that has not reported by then frees its permit (its process may be gone). Default 90 000. */
  probeTimeoutMs?: number;
  /** How long this process trusts a 'closed' answer before asking the store again. Default 1000. */
  cacheMs?: number;
  /** While half-open with probes out, how often waiters ask whether it closed. Default 1000. */
  pollMs?: number;
  /** Random extra delay on every re-check, so processes do not come back in step. Default 50. */
  jitterMs?: number;
  /**
   * While closed, outcomes are counted in this process and flushed to the store in one call: at
   * most this long after the first success counted. Each flush's reply refreshes the 'closed'
   * answer, so keep it under `cacheMs`. Default 500.
   */
  flushMs?: number;
  /** ...and at most this long after a failure, so the breaker still opens fast. Default 50. */
  failureFlushMs?: number;
  /** Default: the system clock. Only `monotonicMs` is used (the age of a cached answer, flush deadlines). */
  clock?: Clock;
  /** Default Math.random. */
  random?: () => number;
  /** Store failures of `record()`. Default: ignored. */
  onError?: (error: unknown) => void;
}

export interface ResolvedBreakerOptions {
  store: BreakerStore;
  provider: string;
  policy: BreakerPolicy;
  cacheMs: number;
  pollMs: number;
  jitterMs: number;
  flushMs: number;
  failureFlushMs: number;
  clock: Clock;
  random: () => number;
  onError: (error: unknown) => void;
}

export const BREAKER_DEFAULTS = {
  failureRateThreshold: 0.5,
  minimumRequests: 20,
  windowMs: 60_000,
  bucketMs: 10_000,
  openMs: 30_000,
  halfOpenProbes: 1,
  probeTimeoutMs: 90_000,
  cacheMs: 1000,
  pollMs: 1000,
  jitterMs: 50,
  flushMs: 500,
  failureFlushMs: 50,
} as const;

function invalid(field: string, expected: string, value: unknown): never {
  throw new ValidationError('breaker_option_invalid', `CircuitBreaker: options.${field} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, { field });
}

function num(options: CircuitBreakerOptions, field: keyof typeof BREAKER_DEFAULTS, ok: (n: number) => boolean, expected: string): number {
  const value: unknown = options[field];
  if (value === undefined) return BREAKER_DEFAULTS[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) invalid(field, expected, value);
  return value;
}

export function resolveBreakerOptions(options: CircuitBreakerOptions): ResolvedBreakerOptions {
  if (options === null || typeof options !== 'object') invalid('', 'an object', options);
  if (options.store === null || typeof options.store !== 'object' || typeof options.store.admit !== 'function') invalid('store', 'a BreakerStore', typeof options.store);
  if (typeof options.provider !== 'string' || options.provider === '') invalid('provider', 'a non-empty string', options.provider);
  const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;
  const failureRateThreshold = num(options, 'failureRateThreshold', (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  const minimumRequests = num(options, 'minimumRequests', positiveInt, 'an integer >= 1');
  const bucketMs = num(options, 'bucketMs', positiveInt, 'an integer number of ms >= 1');
  const windowMs = num(options, 'windowMs', positiveInt, 'an integer number of ms >= 1');
  if (windowMs % bucketMs !== 0) invalid('windowMs', `a whole multiple of bucketMs (${bucketMs})`, windowMs);
  const openMs = num(options, 'openMs', positiveInt, 'an integer number of ms >= 1');
  const halfOpenProbes = num(options, 'halfOpenProbes', positiveInt, 'an integer >= 1');
  const probeTimeoutMs = num(options, 'probeTimeoutMs', positiveInt, 'an integer number of ms >= 1');
  const clock = options.clock ?? systemClock;
  if (clock === null || typeof clock !== 'object' || typeof clock.monotonicMs !== 'function') invalid('clock', 'a Clock', typeof clock);
  const random = options.random ?? Math.random;
  const onError = options.onError ?? (() => undefined);
  if (typeof random !== 'function') invalid('random', 'a function', typeof random);
  if (typeof onError !== 'function') invalid('onError', 'a function', typeof onError);
  return {
    store: options.store,
    provider: options.provider,
    policy: { failureRateThreshold, minimumRequests, bucketMs, windowBuckets: windowMs / bucketMs, openMs, halfOpenProbes, probeTimeoutMs },
    cacheMs: num(options, 'cacheMs', (n) => n >= 0, 'a number of ms >= 0'),
    pollMs: num(options, 'pollMs', (n) => n >= 1, 'a number of ms >= 1'),
    jitterMs: num(options, 'jitterMs', (n) => n >= 0, 'a number of ms >= 0'),
    flushMs: num(options, 'flushMs', (n) => n >= 0, 'a number of ms >= 0'),
    failureFlushMs: num(options, 'failureFlushMs', (n) => n >= 0, 'a number of ms >= 0'),
    clock,
    random,
    onError,
  };
}
