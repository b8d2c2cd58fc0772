import { setMaxListeners } from 'node:events';
import { ValidationError, WardenError } from '../../errors.ts';
import { abortableSleep } from './abortable-sleep.ts';
import type { Change } from './adjustment-ledger.ts';
import { AdmissionBatcher } from './admission-batcher.ts';
import { LimiterClosedError, LimiterUnavailableError } from './limiter-errors.ts';
import { resolveLimiterOptions, type LlmLimiterOptions, type ResolvedLimiterOptions } from './limiter-options.ts';
import type { AdmitReply, BucketSpec, Priority } from './limiter-store.ts';
import { RedisLimiterStore } from './redis-limiter-store.ts';

export type { Priority } from './limiter-store.ts';
export type { BucketLimit, LlmLimiterOptions } from './limiter-options.ts';

export type { AcquireRequest, Admission, BucketSnapshot, LimiterSnapshot } from './limiter-types.ts';
import type { AcquireRequest, Admission, LimiterSnapshot, BucketSnapshot } from './limiter-types.ts';

interface Booking {
  readonly tenant: string;
  readonly tokens: number;
  cancel(): void;
}

interface Bucket {
  readonly spec: BucketSpec;
  readonly batcher: AdmissionBatcher;
  /** Monotonic ms until which this process knows the bucket is paused. */
  pausedUntil: number;
  readonly bookings: Set<Booking>;
}

const PRIORITIES: ReadonlySet<string> = new Set(['interactive', 'bulk']);

/**
 * One global limiter for LLM calls: requests and tokens per minute per (provider, model), shared
 * by every process through the store, interactive first, a cap per tenant, and a fleet-wide pause
 * on 429. An attempt that cannot start at once is usually booked for a later start (the reply
 * says when), so the caller sleeps once and goes. The attempts of this process that arrive within
 * `batchWindowMs` share one store call, which also carries the reconciles and handed-back
 * bookings summed since the last one (see admission-batcher.ts).
 */
export class LlmLimiter {
  private readonly options: ResolvedLimiterOptions;
  private readonly buckets = new Map<string, Bucket>();
  private readonly byId = new Map<string, Bucket>();
  private readonly closeController = new AbortController();
  private readonly unsubscribe: () => void;
  private closing: Promise<void> | undefined;
  private readonly counters = { admitted: 0, attempts: 0, storeCalls: 0, refusedAttempts: 0, reconciles: 0, pauses: 0 };
  private readonly waiting = { interactive: 0, bulk: 0 };

  constructor(options: LlmLimiterOptions) {
    this.options = resolveLimiterOptions(options);
    // Every waiter listens on it; thousands of them are the normal case, not a leak.
    setMaxListeners(0, this.closeController.signal);
    const { burstMs, tenantShare, bulkReserveFraction, batchWindowMs, maxBatch, adjustFlushMs, store, onError } = this.options;
    for (const limit of this.options.limits) {
      const id = RedisLimiterStore.bucketId(limit.provider, limit.model);
      const spec: BucketSpec = { id, provider: limit.provider, model: limit.model, rpm: limit.rpm, tpm: limit.tpm, burstMs, tenantShare, bulkReserveFraction };
      const batcher = new AdmissionBatcher({ store, bucket: spec, batchWindowMs, maxBatch, adjustFlushMs, onError, onStoreCall: () => void (this.counters.storeCalls += 1) });
      const bucket: Bucket = { spec, batcher, pausedUntil: 0, bookings: new Set() };
      this.buckets.set(LlmLimiter.key(limit.provider, limit.model), bucket);
      this.byId.set(id, bucket);
    }
    this.unsubscribe = this.options.store.onPause((bucketId, pauseMs) => this.applyPause(bucketId, pauseMs));
  }

  private static key(provider: string, model: string): string {
    return JSON.stringify([provider, model]);
  }

  /** Resolves once pauses set by other processes reach this one. */
  ready(): Promise<void> {
    return this.options.store.ready();
  }

  private bucketFor(provider: string, model: string): Bucket {
    const bucket = this.buckets.get(LlmLimiter.key(provider, model));
    if (bucket === undefined) {
      throw new ValidationError('limiter_unknown_bucket', `LlmLimiter: no limits configured for provider ${JSON.stringify(provider)} model ${JSON.stringify(model)}`, { provider, model });
    }
    return bucket;
  }

  /** Waits until the call may start; rejects with the signal's reason when it aborts first. */
  async acquire(request: AcquireRequest): Promise<Admission> {
    const { provider, model, tenant, priority, estimatedTokens, signal } = request ?? ({} as AcquireRequest);
    const bucket = this.bucketFor(provider, model);
    if (typeof tenant !== 'string' || tenant === '') throw new ValidationError('limiter_request_invalid', 'LlmLimiter.acquire: tenant must be a non-empty string', { field: 'tenant' });
    if (!PRIORITIES.has(priority)) throw new ValidationError('limiter_request_invalid', `LlmLimiter.acquire: priority must be 'interactive' or 'bulk', got ${JSON.stringify(priority)}`, { field: 'priority' });
    if (typeof estimatedTokens !== 'number' || !Number.isFinite(estimatedTokens) || estimatedTokens < 0) {
      throw new ValidationError('limiter_request_invalid', `LlmLimiter.acquire: estimatedTokens must be a number >= 0, got ${String(estimatedTokens)}`, { field: 'estimatedTokens' });
    }
    const signals = [signal, this.closeController.signal];
    for (const s of signals) if (s?.aborted) throw s.reason;

    const { clock, random, retryJitterMs, bulkReserveFraction, burstMs, maxBookAheadMs } = this.options;
    const started = clock.monotonicMs();
    const attempt = {
      returning: false,
      tenant,
      priority,
      tokens: estimatedTokens,
      horizonMs: priority === 'bulk' ? bulkReserveFraction * burstMs : maxBookAheadMs,
    };
    let attempts = 0;
    this.waiting[priority] += 1;
    try {
      for (;;) {
        const pausedFor = bucket.pausedUntil - clock.monotonicMs();
        if (pausedFor > 0) {
          await abortableSleep(pausedFor + random() * retryJitterMs, signals);
          continue;
        }
        attempts += 1;
        this.counters.attempts += 1;
        let reply: AdmitReply;
        try {
          // An abort does not wait for Redis; an admission that arrives after it is handed back.
          reply = await bucket.batcher.admit(attempt, signals, (late) => {
            if (late.admitted) this.refund(bucket, tenant, estimatedTokens, true);
          });
        } catch (error) {
          for (const s of signals) if (s?.aborted && s.reason === error) throw error;
          if (error instanceof WardenError && error.code === 'limiter_closed') throw new LimiterClosedError();
          throw new LimiterUnavailableError(error);
        }
        if (!reply.admitted) {
          this.counters.refusedAttempts += 1;
          // A pause hands out no places: everyone comes back after it on an equal footing, with
          // jitter. A place in a line is a turn of its own, already apart from the others'.
          attempt.returning = reply.reason !== 'paused';
          // Spare the other local waiters a round trip each to learn the same thing.
          if (reply.reason === 'paused') bucket.pausedUntil = Math.max(bucket.pausedUntil, clock.monotonicMs() + reply.retryMs);
          await abortableSleep(reply.retryMs + (attempt.returning ? 0 : random() * retryJitterMs), signals);
          continue;
        }
        if (bucket.pausedUntil > clock.monotonicMs()) {
          // A pause arrived while the reply was on its way: the script ran before it, so the
          // pause's drain already covers this admission; only the tenant's share is handed back.
          this.refund(bucket, tenant, estimatedTokens, false);
          attempt.returning = false;
          continue;
        }
        if (reply.waitMs > 0 && (await this.waitForStart(bucket, tenant, estimatedTokens, reply.waitMs, signals)) === 'cancelled') {
          attempt.returning = false;
          continue;
        }
        this.counters.admitted += 1;
        return this.admission(bucket, request, clock.monotonicMs() - started, attempts);
      }
    } finally {
      this.waiting[priority] -= 1;
    }
  }

  /**
   * Sleeps until a booked start. The booking is handed back if the caller gives up, and dropped
   * (without handing back what the pause already drained) if a pause cancels it.
   */
  private waitForStart(bucket: Bucket, tenant: string, tokens: number, waitMs: number, signals: ReadonlyArray<AbortSignal | undefined>): Promise<'started' | 'cancelled'> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (then: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const s of signals) s?.removeEventListener('abort', onAbort);
        bucket.bookings.delete(booking);
        then();
      };
      const booking: Booking = { tenant, tokens, cancel: () => finish(() => resolve('cancelled')) };
      const onAbort = (event: Event): void =>
        finish(() => {
          this.refund(bucket, tenant, tokens, true);
          reject((event.target as AbortSignal).reason);
        });
      const timer = setTimeout(() => finish(() => resolve('started')), waitMs);
      bucket.bookings.add(booking);
      for (const s of signals) s?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private admission(bucket: Bucket, request: AcquireRequest, waitedMs: number, attempts: number): Admission {
    let reconciled = false;
    const { provider, model, tenant, priority, estimatedTokens } = request;
    return {
      provider,
      model,
      tenant,
      priority,
      estimatedTokens,
      waitedMs,
      attempts,
      reconcile: (actualTokens: number): Promise<void> => {
        if (typeof actualTokens !== 'number' || !Number.isFinite(actualTokens) || actualTokens < 0) {
          throw new ValidationError('limiter_request_invalid', `Admission.reconcile: actualTokens must be a number >= 0, got ${String(actualTokens)}`, { field: 'actualTokens' });
        }
        if (reconciled) return Promise.resolve();
        reconciled = true;
        const delta = estimatedTokens - actualTokens;
        if (delta === 0) return Promise.resolve();
        this.counters.reconciles += 1;
        return this.adjust(bucket, tenant, { requests: 0, tokens: delta, tenantRequests: 0, tenantTokens: delta });
      },
    };
  }

  /** Hands a booking back: to the tenant's share only when a pause already drained the bucket. */
  private refund(bucket: Bucket, tenant: string, tokens: number, toBucket: boolean): void {
    void this.adjust(bucket, tenant, { requests: toBucket ? 1 : 0, tokens: toBucket ? tokens : 0, tenantRequests: 1, tenantTokens: tokens });
  }

  /** Into the bucket's ledger: carried by the next admission call, or flushed within `adjustFlushMs`. */
  private adjust(bucket: Bucket, tenant: string, change: Change): Promise<void> {
    // Without a tenant cap every tenant's change lands in the same place: sum them as one.
    return bucket.batcher.adjust(this.options.tenantShare >= 1 ? '' : tenant, change);
  }

  /**
   * After a 429 with retry-after: no admission for this bucket anywhere in the fleet until it
   * ends (capped at `maxPauseMs`); bookings not yet started are cancelled and wait it out too.
   * Resolves with the pause in force (a longer one already set wins).
   */
  async pause(provider: string, model: string, retryAfterMs: number): Promise<number> {
    const bucket = this.bucketFor(provider, model);
    if (typeof retryAfterMs !== 'number' || Number.isNaN(retryAfterMs) || retryAfterMs <= 0) {
      throw new ValidationError('limiter_request_invalid', `LlmLimiter.pause: retryAfterMs must be a number > 0, got ${String(retryAfterMs)}`, { field: 'retryAfterMs' });
    }
    if (this.closing !== undefined) throw new LimiterClosedError();
    const pauseMs = Math.min(retryAfterMs, this.options.maxPauseMs);
    // Hold this process at once; the broadcast reaches the others (and this one again, harmlessly).
    this.applyPause(bucket.spec.id, pauseMs);
    let inForce: number;
    try {
      inForce = await this.options.store.pause(bucket.spec, pauseMs);
    } catch (error) {
      throw new LimiterUnavailableError(error);
    }
    this.counters.pauses += 1;
    this.applyPause(bucket.spec.id, inForce);
    return inForce;
  }

  private applyPause(bucketId: string, pauseMs: number): void {
    const bucket = this.byId.get(bucketId);
    if (bucket === undefined) return;
    bucket.pausedUntil = Math.max(bucket.pausedUntil, this.options.clock.monotonicMs() + pauseMs);
    for (const booking of [...bucket.bookings]) {
      booking.cancel();
      this.refund(bucket, booking.tenant, booking.tokens, false);
    }
  }

  /** Fleet-wide bucket state from the store (this process' pending adjustments flushed first), plus this process' counters. */
  async snapshot(): Promise<LimiterSnapshot> {
    const buckets = await Promise.all(
      [...this.buckets.values()].map(async ({ spec, batcher }) => {
        await batcher.flush();
        const state = await this.options.store.inspect(spec);
        return {
          provider: spec.provider,
          model: spec.model,
          rpm: spec.rpm,
          tpm: spec.tpm,
          requestsAvailable: state.requests,
          tokensAvailable: state.tokens,
          pausedMs: state.pausedMs,
          admittedInteractive: state.admittedInteractive,
          admittedBulk: state.admittedBulk,
          refusedAttempts: state.refused,
        };
      }),
    );
    let booked = 0;
    for (const bucket of this.buckets.values()) booked += bucket.bookings.size;
    return { buckets, local: { waiting: { ...this.waiting }, booked, ...this.counters } };
  }

  /**
   * Rejects every waiter with LimiterClosedError (handing their bookings back), stops listening
   * for pauses, lets the store calls in flight answer (an admission that arrives now is handed
   * back), then flushes every adjustment still summed in the ledgers; waits up to
   * `closeTimeoutMs` for all that. Safe to call twice. The store is not closed: it may be shared.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unsubscribe();
      this.closeController.abort(new LimiterClosedError());
      const drain = async (batcher: AdmissionBatcher): Promise<void> => {
        await batcher.settled();
        await batcher.flush();
      };
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.buckets.values()].map(({ batcher }) => drain(batcher))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.options.closeTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
    })();
    return this.closing;
  }
}
