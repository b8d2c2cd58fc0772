import { systemClock, type Clock } from '../../runtime/clock.ts';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Per-credential admission. In-process here; a fleet of API instances that must share one budget
 * per key would implement this port on the Redis limiter (src/runtime/limiter), one round trip
 * per request.
 */
export interface RateLimiter {
  take(key: string): RateDecision | Promise<RateDecision>;
}

export interface TokenBucketOptions {
  /** Sustained requests per second per credential. Default 20. */
  ratePerSecond?: number;
  /** Requests a credential may send at once after being idle. Default 40. */
  burst?: number;
  /** Buckets kept; beyond it, full (idle) buckets are dropped first. Default 10,000. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per key on the monotonic clock: `burst` tokens, refilled at `ratePerSecond`. */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly maxKeys: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions = {}, private readonly clock: Pick<Clock, 'monotonicMs'> = systemClock) {
    this.ratePerSecond = options.ratePerSecond ?? 20;
    this.burst = options.burst ?? 40;
    this.maxKeys = options.maxKeys ?? 10_000;
    if (!Number.isFinite(this.ratePerSecond) || this.ratePerSecond <= 0) throw new TypeError('rateLimit.ratePerSecond must be a positive number');
    if (!Number.isFinite(this.burst) || this.burst < 1) throw new TypeError('rateLimit.burst must be a number ≥ 1');
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1) throw new TypeError('rateLimit.maxKeys must be a positive integer');
  }

  take(key: string): RateDecision {
    const now = this.clock.monotonicMs();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= this.maxKeys) this.evict(now);
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000) };
  }

  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
    // Still full of busy keys: drop the oldest (a dropped key starts again with a full bucket).
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
