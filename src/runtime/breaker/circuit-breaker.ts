import { setMaxListeners } from 'node:events';
import { ValidationError, WardenError } from '../../errors.ts';
import { abortableSleep } from '../limiter/abortable-sleep.ts';
import { resolveBreakerOptions, type CircuitBreakerOptions, type ResolvedBreakerOptions } from './breaker-options.ts';
import type { BreakerState, BreakerStatus } from './breaker-store.ts';
import { OutcomeTally } from './outcome-tally.ts';

export type { BreakerState, BreakerStatus } from './breaker-store.ts';
export type { CircuitBreakerOptions } from './breaker-options.ts';

/** The breaker was closed (the process is shutting down) while this caller waited. */
export class BreakerClosedError extends WardenError {
  constructor() {
    super('breaker_closed', 'the circuit breaker was closed while waiting', { retryable: true });
  }
}

/** The breaker's shared state (Redis) did not answer; the call was not let through. */
export class BreakerUnavailableError extends WardenError {
  constructor(cause: unknown) {
    super('breaker_unavailable', `the circuit breaker's store failed: ${(cause as Error)?.message ?? String(cause)}`, { retryable: true, cause });
  }
}

export interface BreakerAdmission {
  /** This call is a half-open probe: its `record()` closes or re-opens the breaker. */
  readonly probe: boolean;
}

interface Waiter {
  resolve(admission: BreakerAdmission): void;
  reject(error: unknown): void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * A circuit breaker for one provider whose state the whole fleet shares through the store:
 * closed → open when the failure rate over a rolling window reaches the threshold (with a minimum
 * volume); open for a cool-down; half-open lets a few probes through; a probe's success closes
 * it, a failure opens it again. While it is not closed, `admit()` waits: jobs wait, they are not
 * failed. Only transient provider failures should be recorded as failures; the caller decides.
 *
 * Store traffic stays small: a 'closed' answer is trusted for `cacheMs` (every flush's reply
 * refreshes it), the waiters of this process share one store call per re-check, and while it is
 * closed the outcomes of this process are counted and flushed in one call, within `flushMs` of
 * a success and `failureFlushMs` of a failure. While half-open an outcome (a probe's verdict)
 * goes at once.
 */
export class CircuitBreaker {
  readonly provider: string;
  private readonly options: ResolvedBreakerOptions;
  private readonly waiters: Waiter[] = [];
  private readonly closeController = new AbortController();
  private cached: { state: BreakerState; at: number } | undefined;
  private pumping = false;
  private wake: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly tally = new OutcomeTally();
  private flushTimer: NodeJS.Timeout | undefined;
  /** Monotonic ms the pending flush is due at. */
  private flushAt = Infinity;
  private readonly flushes = new Set<Promise<void>>();

  constructor(options: CircuitBreakerOptions) {
    this.options = resolveBreakerOptions(options);
    this.provider = this.options.provider;
    setMaxListeners(0, this.closeController.signal);
  }

  /** Resolves when a call may go to the provider; waits while the breaker is open or probing. */
  admit(signal?: AbortSignal): Promise<BreakerAdmission> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closing !== undefined) return Promise.reject(new BreakerClosedError());
    const cached = this.cached;
    if (cached?.state === 'closed' && this.options.clock.monotonicMs() - cached.at < this.options.cacheMs && this.waiters.length === 0) {
      return Promise.resolve({ probe: false });
    }
    return new Promise<BreakerAdmission>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private settle(waiter: Waiter, outcome: { admission: BreakerAdmission } | { error: unknown }): void {
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if ('admission' in outcome) waiter.resolve(outcome.admission);
    else waiter.reject(outcome.error);
  }

  /** One loop per process asks the store for all its waiters. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        while (this.waiters.length > 0 && this.closing === undefined) {
          let reply;
          try {
            reply = await this.options.store.admit(this.provider, this.options.policy);
          } catch (error) {
            for (const waiter of this.waiters.splice(0)) this.settle(waiter, { error: new BreakerUnavailableError(error) });
            return;
          }
          if (reply.kind === 'pass') {
            this.cached = { state: 'closed', at: this.options.clock.monotonicMs() };
            for (const waiter of this.waiters.splice(0)) this.settle(waiter, { admission: { probe: false } });
          } else if (reply.kind === 'probe') {
            this.cached = { state: 'half_open', at: this.options.clock.monotonicMs() };
            const waiter = this.waiters.shift();
            // A probe permit for a waiter that left meanwhile frees itself after probeTimeoutMs.
            if (waiter !== undefined) this.settle(waiter, { admission: { probe: true } });
          } else {
            this.cached = { state: reply.state, at: this.options.clock.monotonicMs() };
            const { pollMs, jitterMs, random } = this.options;
            const waitMs = reply.state === 'open' ? reply.waitMs : Math.min(reply.waitMs, pollMs);
            await this.sleep(waitMs + random() * jitterMs);
          }
        }
      } finally {
        this.pumping = false;
        if (this.waiters.length > 0 && this.closing === undefined) this.pump();
      }
    })();
  }

  /** A sleep that a local probe result (or close) cuts short. */
  private async sleep(ms: number): Promise<void> {
    const interrupt = new AbortController();
    this.wake = () => interrupt.abort();
    try {
      await abortableSleep(ms, [interrupt.signal, this.closeController.signal]);
    } catch {
      // Woken early: look again now.
    } finally {
      this.wake = undefined;
    }
  }

  /**
   * Records the outcome of one provider call (`false` only for transient provider failures).
   * Resolves with the state after the flush that carried it; never rejects for a store failure
   * (that goes to `onError`, and the last known state is returned).
   */
  record(success: boolean): Promise<BreakerState> {
    if (typeof success !== 'boolean') throw new ValidationError('breaker_request_invalid', `CircuitBreaker.record: success must be a boolean, got ${String(success)}`);
    const promise = this.tally.add(success);
    const { clock, flushMs, failureFlushMs } = this.options;
    const state = this.cached?.state ?? 'closed';
    // A half-open verdict decides for the fleet: it goes at once. While open the store ignores
    // outcomes (the calls started before it opened), so they need no hurry either.
    if (state === 'half_open' || this.closing !== undefined) {
      this.flush();
    } else {
      const due = clock.monotonicMs() + (success && state === 'closed' ? flushMs : failureFlushMs);
      if (due < this.flushAt) {
        clearTimeout(this.flushTimer);
        this.flushAt = due;
        this.flushTimer = setTimeout(() => this.flush(), due - clock.monotonicMs());
      }
    }
    return promise;
  }

  /** Sends the outcomes counted so far in one store call. */
  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushAt = Infinity;
    const batch = this.tally.take();
    if (batch === undefined) return;
    const flushing = (async () => {
      let state: BreakerState;
      try {
        state = await this.options.store.record(this.provider, batch.outcomes, this.options.policy);
        const previous = this.cached?.state;
        this.cached = { state, at: this.options.clock.monotonicMs() };
        if (state !== previous) this.wake?.();
      } catch (error) {
        this.options.onError(error);
        state = this.cached?.state ?? 'closed';
      }
      batch.settle(state);
    })().finally(() => this.flushes.delete(flushing));
    this.flushes.add(flushing);
  }

  /** The fleet-wide state, read from the store. */
  async state(): Promise<BreakerStatus & { provider: string; failureRate: number }> {
    const status = await this.options.store.inspect(this.provider, this.options.policy);
    return { provider: this.provider, ...status, failureRate: status.requests === 0 ? 0 : status.failures / status.requests };
  }

  /**
   * Rejects every waiter with BreakerClosedError, flushes the outcomes counted so far and waits
   * for the flushes in flight. Safe to call twice. The store is not closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closeController.abort(new BreakerClosedError());
      for (const waiter of this.waiters.splice(0)) this.settle(waiter, { error: new BreakerClosedError() });
      this.flush();
      await Promise.allSettled([...this.flushes]);
    })();
    return this.closing;
  }
}
