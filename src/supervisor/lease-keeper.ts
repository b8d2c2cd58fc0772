import type { Ownership } from '../actors/ownership.ts';
import { ValidationError, WardenError } from '../errors.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import { LeaseLostError, type LeaseLossReason } from '../runtime/leases/lease-lost-error.ts';
import type { Lease, LeaseStore } from '../runtime/leases/lease-store.ts';

export interface LeaseKeeperOptions {
  /** Only renewMany and release are used. */
  store: Pick<LeaseStore, 'renewMany' | 'release'>;
  /** TTL each renewal sets; acquire leases with the same TTL. */
  ttlMs: number;
  /** Default: the system clock. Validity is judged by its monotonicMs(). */
  clock?: Clock;
  /** Renewal period. Default ⌊ttlMs / 3⌋: two renewals may fail before the deadline. */
  renewEveryMs?: number;
  /**
   * Subtracted from the TTL for the local deadline, to cover clock-rate differences between this
   * host and Redis and the time a write takes to land. Default ⌊ttlMs / 10⌋.
   */
  safetyMarginMs?: number;
  /** Called once per lease when its ownership ends for any reason other than release(). */
  onLost?: (lease: Lease, reason: LeaseLossReason) => void;
  /** Called when a renewal round or a release fails (Redis unreachable). Default: ignore. */
  onError?: (error: unknown) => void;
  /**
   * Tried when a renewal is refused, before ownership is given up: if Redis lost the lease (a
   * restart without persistence, a failover) and nobody took it, this grants it again with a
   * new, higher token. In-flight work then goes on under the new token instead of being thrown
   * away and paid for twice. Return null when the partition is held by someone else.
   */
  reacquire?: (lease: Lease) => Promise<Lease | null>;
}

interface Kept {
  /** Replaced when the lease is re-granted after Redis lost it. */
  lease: Lease;
  /** True while a refused lease is being re-granted: no new money may be spent meanwhile. */
  suspended: boolean;
  readonly controller: AbortController;
  readonly ownership: Ownership;
  /** Monotonic ms after which this process no longer considers itself the owner. */
  deadline: number;
  watchdog: NodeJS.Timeout | undefined;
}

/**
 * Keeps a process' leases: renews all of them every renewEveryMs in one round trip (renewMany)
 * and gives each an Ownership whose signal aborts the moment ownership ends, with a
 * LeaseLostError as its reason:
 *
 * - a renewal says lost (the lease expired and was taken, or Redis forgot it): at once;
 * - no renewal succeeded before the local deadline, `start of the last successful renewal (or of
 *   the confirm that granted it) + ttl − safety margin`. Redis starts the TTL no earlier than
 *   the call that sets it was sent, so the deadline passes before the lease can expire in Redis.
 *   The deadline is on the monotonic clock, which keeps running while the process is stopped:
 *   a process resumed after SIGSTOP fails isValid() at once, before it writes anything, and the
 *   watchdog timer aborts the signal on the first turn of the event loop.
 *
 * isValid() is the check to make before spending money or writing; the fencing token is what
 * makes a write that slips through anyway harmless.
 */
export class LeaseKeeper {
  private readonly store: LeaseKeeperOptions['store'];
  private readonly clock: Clock;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  readonly safetyMarginMs: number;
  private readonly kept = new Map<number, Kept>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: LeaseKeeperOptions) {
    if (options === null || typeof options !== 'object' || options.store === undefined) {
      throw new ValidationError('lease_keeper_option_invalid', 'LeaseKeeper: options.store is required');
    }
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = integer(options.ttlMs, 'ttlMs', undefined, 3);
    this.renewEveryMs = integer(options.renewEveryMs, 'renewEveryMs', Math.floor(this.ttlMs / 3), 1);
    this.safetyMarginMs = integer(options.safetyMarginMs, 'safetyMarginMs', Math.floor(this.ttlMs / 10), 0);
    if (this.renewEveryMs + this.safetyMarginMs >= this.ttlMs) {
      throw new ValidationError('lease_keeper_option_invalid',
        `LeaseKeeper: options.renewEveryMs (${this.renewEveryMs}) + options.safetyMarginMs (${this.safetyMarginMs}) must be less than options.ttlMs (${this.ttlMs}), or ownership would lapse between renewals`);
    }
  }

  /** Starts periodic renewal. Idempotent. */
  start(): void {
    if (this.timer !== undefined || this.closing !== undefined) return;
    this.timer = setInterval(() => {
      this.renewNow().catch((error: unknown) => this.options.onError?.(error));
    }, this.renewEveryMs);
    this.timer.unref();
  }

  /**
   * Keeps `lease` from now on and returns its Ownership. Its first deadline counts from
   * lease.acquiredAt (taken on the same clock), so a lease acquired long ago is already invalid.
   */
  hold(lease: Lease): Ownership {
    if (this.closing !== undefined) throw new WardenError('lease_keeper_closed', 'LeaseKeeper.hold: the keeper is closed');
    const existing = this.kept.get(lease.partition);
    if (existing !== undefined) {
      if (existing.lease.token === lease.token && existing.lease.owner === lease.owner) return existing.ownership;
      throw new WardenError('lease_already_kept', `LeaseKeeper.hold: partition ${lease.partition} is already kept with token ${existing.lease.token}`);
    }
    const controller = new AbortController();
    const ttl = Math.min(lease.ttlMs, this.ttlMs);
    const entry: Kept = {
      lease,
      suspended: false,
      controller,
      deadline: lease.acquiredAt + ttl - this.safetyMarginMs,
      watchdog: undefined,
      ownership: {
        partition: lease.partition,
        owner: lease.owner,
        // A getter: after a re-grant, every later checkpoint carries the new token.
        get token() {
          return entry.lease.token;
        },
        signal: controller.signal,
        isValid: () => this.isValid(entry),
        // This signal fires only when the lease itself ends, so both agree here; an actor that
        // drains aborts its own derived signal and passes this check through unchanged.
        leaseHeld: () => this.isValid(entry),
      },
    };
    this.kept.set(lease.partition, entry);
    if (this.isValid(entry)) this.arm(entry);
    return entry.ownership;
  }

  ownership(partition: number): Ownership | undefined {
    return this.kept.get(partition)?.ownership;
  }

  /** The leases currently kept (lost ones are dropped at once). */
  get leases(): Lease[] {
    return [...this.kept.values()].map((entry) => entry.lease);
  }

  /**
   * One renewal round for every kept lease, in one round trip. Rounds never overlap: a call
   * during a round returns that round.
   */
  renewNow(): Promise<void> {
    this.round ??= this.renewAll().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /**
   * Stops keeping the partition (its signal aborts with reason 'released') and deletes the lease
   * if it is still ours. Call it after draining. Best effort: a lease Redis cannot delete now
   * expires by its TTL.
   */
  async release(partition: number): Promise<void> {
    const entry = this.kept.get(partition);
    if (entry === undefined) return;
    this.drop(entry, 'released');
    await this.store.release(entry.lease).catch((error: unknown) => this.options.onError?.(error));
  }

  /** Stops renewing and releases every lease. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      this.timer = undefined;
      await this.round?.catch(() => undefined);
      await Promise.all([...this.kept.keys()].map((partition) => this.release(partition)));
    })();
    return this.closing;
  }

  private async renewAll(): Promise<void> {
    const batch = [...this.kept.values()];
    if (batch.length === 0) return;
    const startedAt = this.clock.monotonicMs();
    let results: boolean[];
    try {
      results = await this.store.renewMany(batch.map((entry) => entry.lease), this.ttlMs);
    } catch (error) {
      this.options.onError?.(error);
      // Deadlines stand; the watchdogs end ownership if the outage outlasts them.
      for (const entry of batch) this.isValid(entry);
      return;
    }
    batch.forEach((entry, i) => {
      if (this.kept.get(entry.lease.partition) !== entry) return;
      if (results[i] !== true) {
        if (this.options.reacquire && !entry.suspended) void this.regrant(entry);
        else if (!entry.suspended) this.lose(entry, 'renewal_refused');
        return;
      }
      // A renewal that returns after the deadline does not revive ownership: isValid() may
      // already have said false to someone who acted on it.
      if (!this.isValid(entry)) return;
      entry.deadline = startedAt + this.ttlMs - this.safetyMarginMs;
      this.arm(entry);
    });
  }

  private async regrant(entry: Kept): Promise<void> {
    entry.suspended = true;
    let granted: Lease | null = null;
    try {
      granted = await (this.options.reacquire as NonNullable<LeaseKeeperOptions['reacquire']>)(entry.lease);
    } catch (error) {
      this.options.onError?.(error);
    }
    if (this.kept.get(entry.lease.partition) !== entry) return;
    entry.suspended = false;
    if (!granted || !this.isValid(entry)) {
      if (granted) void this.store.release(granted).catch((error: unknown) => this.options.onError?.(error));
      this.lose(entry, 'renewal_refused');
      return;
    }
    entry.lease = granted;
    entry.deadline = granted.acquiredAt + Math.min(granted.ttlMs, this.ttlMs) - this.safetyMarginMs;
    this.arm(entry);
  }

  private isValid(entry: Kept): boolean {
    if (entry.controller.signal.aborted || entry.suspended) return false;
    if (this.clock.monotonicMs() < entry.deadline) return true;
    this.lose(entry, 'deadline_passed');
    return false;
  }

  private arm(entry: Kept): void {
    clearTimeout(entry.watchdog);
    const wait = Math.max(0, entry.deadline - this.clock.monotonicMs());
    // Re-checked against the injected clock when it fires (a fake clock may not have moved).
    entry.watchdog = setTimeout(() => {
      if (this.isValid(entry)) this.arm(entry);
    }, Math.min(wait + 1, 2 ** 31 - 1));
    entry.watchdog.unref();
  }

  private lose(entry: Kept, reason: LeaseLossReason): void {
    if (!this.drop(entry, reason)) return;
    try {
      this.options.onLost?.(entry.lease, reason);
    } catch (error) {
      // A failing callback must not break the isValid() check or the renewal round it runs in.
      this.options.onError?.(error);
    }
    if (reason === 'deadline_passed') {
      // It may still be ours in Redis (a late renewal, an outage that ended): free it for the next
      // owner now rather than after the TTL. The compare on owner and token keeps this harmless.
      void this.store.release(entry.lease).catch((error: unknown) => this.options.onError?.(error));
    }
  }

  /** Forgets the lease and aborts its signal; false if it was already dropped. */
  private drop(entry: Kept, reason: LeaseLossReason): boolean {
    if (this.kept.get(entry.lease.partition) !== entry) return false;
    this.kept.delete(entry.lease.partition);
    clearTimeout(entry.watchdog);
    entry.watchdog = undefined;
    entry.controller.abort(new LeaseLostError(entry.lease.partition, entry.lease.token, reason));
    return true;
  }
}

function integer(value: unknown, field: string, fallback: number | undefined, min: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  throw new ValidationError('lease_keeper_option_invalid', `LeaseKeeper: options.${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
}
