/** The narrow port the circuit breaker needs from its shared state; `RedisBreakerStore` is the adapter. */

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerPolicy {
  readonly failureRateThreshold: number;
  readonly minimumRequests: number;
  readonly bucketMs: number;
  /** Buckets in the rolling window. */
  readonly windowBuckets: number;
  readonly openMs: number;
  readonly halfOpenProbes: number;
  readonly probeTimeoutMs: number;
}

export type BreakerAdmitReply =
  | { readonly kind: 'pass' }
  | { readonly kind: 'probe' }
  | { readonly kind: 'wait'; readonly waitMs: number; readonly state: 'open' | 'half_open' };

export interface BreakerStatus {
  readonly state: BreakerState;
  /** Calls and failures in the rolling window (closed state only; emptied when it opens). */
  readonly requests: number;
  readonly failures: number;
  /** Cool-down left while open, ms. */
  readonly openForMs: number;
  /** Probe permits handed out in the current half-open round. */
  readonly probesInFlight: number;
}

/** Outcomes of provider calls, counted since the last flush. */
export interface BreakerOutcomes {
  readonly successes: number;
  readonly failures: number;
}

export interface BreakerStore {
  admit(provider: string, policy: BreakerPolicy): Promise<BreakerAdmitReply>;
  /** Records a batch of outcomes (at least one); resolves with the state after it. */
  record(provider: string, outcomes: BreakerOutcomes, policy: BreakerPolicy): Promise<BreakerState>;
  inspect(provider: string, policy: BreakerPolicy): Promise<BreakerStatus>;
}
