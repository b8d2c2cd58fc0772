import { AdjustmentLedger, type Change, type LedgerBatch } from './adjustment-ledger.ts';
import type { AdmitAttempt, AdmitReply, BucketSpec, LimiterStore } from './limiter-store.ts';

/** Most tenants' adjustments one store call carries; more wait for the next call. */
const MAX_ADJUSTMENTS = 256;

export interface AdmissionBatcherOptions {
  store: LimiterStore;
  bucket: BucketSpec;
  /** Longest an attempt waits for others to join its store call. */
  batchWindowMs: number;
  /** An attempt that makes the batch this large sends it at once. */
  maxBatch: number;
  /** Longest an adjustment waits for an admission call to carry it before it goes on its own. */
  adjustFlushMs: number;
  /** Adjustments lost to a failed store call. */
  onError: (error: unknown) => void;
  /** Told of every store call made (counters). */
  onStoreCall: () => void;
}

interface Queued {
  readonly attempt: AdmitAttempt;
  readonly signals: ReadonlyArray<AbortSignal | undefined>;
  readonly resolve: (reply: AdmitReply) => void;
  readonly reject: (error: unknown) => void;
  /** Sees the reply of an attempt whose caller left after it was sent. */
  readonly onLate: (reply: AdmitReply) => void;
  readonly onAbort: (event: Event) => void;
  state: 'queued' | 'sent' | 'left';
}

/**
 * One bucket's store traffic from this process: the admission attempts that arrive within
 * `batchWindowMs` of each other go in one store call (interactive first), and that call also
 * carries every adjustment (reconcile, handed-back booking) waiting in the ledger, so under load
 * adjustments cost nothing of their own. Adjustments that no admission carries within
 * `adjustFlushMs` go in a call of their own.
 */
export class AdmissionBatcher {
  private readonly options: AdmissionBatcherOptions;
  private readonly ledger = new AdjustmentLedger();
  private queue: Queued[] = [];
  private tick: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: AdmissionBatcherOptions) {
    this.options = options;
  }

  /** Attempts waiting for their store call. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * The store's reply to this attempt. Rejects with the reason of the first of `signals` to abort:
   * at once if the attempt is still waiting for its call (it leaves the batch), and without
   * waiting for Redis if it was sent (then `onLate` sees the reply, to hand an admission back).
   */
  admit(attempt: AdmitAttempt, signals: ReadonlyArray<AbortSignal | undefined>, onLate: (reply: AdmitReply) => void): Promise<AdmitReply> {
    for (const signal of signals) if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<AdmitReply>((resolve, reject) => {
      const queued: Queued = {
        attempt: { ...attempt },
        signals,
        resolve,
        reject,
        onLate,
        state: 'queued',
        onAbort: (event: Event) => {
          this.unlisten(queued);
          if (queued.state === 'queued') {
            this.queue = this.queue.filter((q) => q !== queued);
            if (this.queue.length === 0) this.clearTick();
          }
          queued.state = 'left';
          reject((event.target as AbortSignal).reason);
        },
      };
      for (const signal of signals) signal?.addEventListener('abort', queued.onAbort, { once: true });
      this.queue.push(queued);
      if (this.queue.length >= this.options.maxBatch) this.send();
      else this.tick ??= setTimeout(() => this.send(), this.options.batchWindowMs);
    });
  }

  /** Adds a change to the ledger; resolves once a store call has carried it. */
  adjust(tenant: string, change: Change): Promise<void> {
    const promise = this.ledger.add(tenant, change);
    this.flushTimer ??= setTimeout(() => void this.flush(), this.options.adjustFlushMs);
    return promise;
  }

  /** Sends what the ledger holds now, in calls of its own; resolves when they have landed. */
  async flush(): Promise<void> {
    this.clearFlushTimer();
    const calls: Promise<void>[] = [];
    for (let taken = this.ledger.take(MAX_ADJUSTMENTS); taken !== undefined; taken = this.ledger.take(MAX_ADJUSTMENTS)) {
      if (taken.adjustments.length === 0) {
        taken.done();
        continue;
      }
      calls.push(this.call(taken, () => this.options.store.adjust(this.options.bucket, taken.adjustments)));
    }
    await Promise.all(calls);
  }

  /** Resolves once every store call made so far has answered. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private send(): void {
    this.clearTick();
    const batch = this.queue.splice(0, this.options.maxBatch);
    if (this.queue.length > 0) this.tick = setTimeout(() => this.send(), this.queue.length >= this.options.maxBatch ? 0 : this.options.batchWindowMs);
    if (batch.length === 0) return;
    // Interactive first: inside one call, bulk never takes what an interactive attempt could have.
    batch.sort((a, b) => Number(a.attempt.priority === 'bulk') - Number(b.attempt.priority === 'bulk'));
    for (const q of batch) q.state = 'sent';
    const taken = this.ledger.take(MAX_ADJUSTMENTS);
    if (this.ledger.size === 0) this.clearFlushTimer();
    const attempts = batch.map((q) => q.attempt);
    void this.call(taken, async () => {
      let replies: AdmitReply[];
      try {
        replies = await this.options.store.admit(this.options.bucket, attempts, taken?.adjustments ?? []);
      } catch (error) {
        for (const q of batch) this.settle(q, () => q.reject(error));
        throw error;
      }
      batch.forEach((q, i) => {
        const reply = replies[i] as AdmitReply;
        if (q.state === 'left') q.onLate(reply);
        else this.settle(q, () => q.resolve(reply));
      });
    });
  }

  /** Runs one store call; adjustments it carried and lost are reported, never retried (a call that failed may have run). */
  private call(taken: LedgerBatch | undefined, run: () => Promise<void>): Promise<void> {
    this.options.onStoreCall();
    let running: Promise<void>;
    try {
      running = run();
    } catch (error) {
      running = Promise.reject(error);
    }
    const tracked = running
      .catch((error: unknown) => {
        if (taken !== undefined && taken.adjustments.length > 0) this.options.onError(error);
      })
      .finally(() => {
        taken?.done();
        this.inFlight.delete(tracked);
      });
    this.inFlight.add(tracked);
    return tracked;
  }

  private settle(q: Queued, then: () => void): void {
    if (q.state === 'left') return;
    this.unlisten(q);
    then();
  }

  private unlisten(q: Queued): void {
    for (const signal of q.signals) signal?.removeEventListener('abort', q.onAbort);
  }

  private clearTick(): void {
    clearTimeout(this.tick);
    this.tick = undefined;
  }

  private clearFlushTimer(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
