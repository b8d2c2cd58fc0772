import type { Priority } from './limiter-store.ts';

/** The limiter's public shapes: what a caller asks for and what it gets back. */

export interface AcquireRequest {
  provider: string;
  model: string;
  /** The tenant (base id) the tenant share applies to. */
  tenant: string;
  priority: Priority;
  /** Prompt plus expected completion tokens, charged now and reconciled with `usage` later. */
  estimatedTokens: number;
  signal?: AbortSignal;
}

/** The right to make one LLM call now. */
export interface Admission {
  readonly provider: string;
  readonly model: string;
  readonly tenant: string;
  readonly priority: Priority;
  readonly estimatedTokens: number;
  /** From `acquire()` to admission, in ms. */
  readonly waitedMs: number;
  /** Admission attempts it took (each one part of a store call); 1 when the first admitted or booked it. */
  readonly attempts: number;
  /**
   * Report the tokens the call really used (the provider's `usage`; 0 when it failed before
   * using any). The difference to the estimate goes back to (or is charged to) the bucket: summed
   * with this process' other reconciles and carried by its next admission call, or flushed on its
   * own within `adjustFlushMs`. Only the first call counts. Throws a ValidationError at once for a
   * negative or non-finite count; the promise resolves once a store call carried the difference
   * and never rejects (store failures go to `onError`), so awaiting it is only for ordering (tests).
   */
  reconcile(actualTokens: number): Promise<void>;
}

export interface BucketSnapshot {
  provider: string;
  model: string;
  rpm: number;
  tpm: number;
  /** Requests / tokens that could start now, fleet-wide; negative while bookings are due. */
  requestsAvailable: number;
  tokensAvailable: number;
  pausedMs: number;
  /** Fleet-wide counters kept in the store. */
  admittedInteractive: number;
  admittedBulk: number;
  refusedAttempts: number;
}

export interface LimiterSnapshot {
  buckets: BucketSnapshot[];
  /** This process only. */
  local: {
    waiting: { interactive: number; bulk: number };
    /** Admitted with a start delay that has not come yet. */
    booked: number;
    admitted: number;
    /** Admission attempts made (an admission after a place in line takes two). */
    attempts: number;
    /** Store calls made: admission batches, adjustments sent on their own, pauses not counted. */
    storeCalls: number;
    refusedAttempts: number;
    reconciles: number;
    pauses: number;
  };
}
