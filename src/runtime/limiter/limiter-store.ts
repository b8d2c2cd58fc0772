/**
 * The narrow port the limiter needs from its shared state: one call per batch of admission
 * attempts (carrying the adjustments that waited for it), one per batch of adjustments on their
 * own, a fleet-wide pause and its broadcast. `RedisLimiterStore` is the adapter.
 */

export type Priority = 'interactive' | 'bulk';

/** One (provider, model) bucket as every process configures it. */
export interface BucketSpec {
  /** Stable id of (provider, model), the same in every process; also the pause broadcast's key. */
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  readonly rpm: number;
  readonly tpm: number;
  /** Capacity of both buckets, in ms of their rate. */
  readonly burstMs: number;
  /** Fraction of the bucket one tenant may use; 1 = no tenant cap. */
  readonly tenantShare: number;
  /** Share of capacity bulk attempts leave to interactive ones, in [0, 1). */
  readonly bulkReserveFraction: number;
}

export interface AdmitAttempt {
  readonly tenant: string;
  readonly priority: Priority;
  readonly tokens: number;
  /** The longest start delay this attempt may be booked with. */
  readonly horizonMs: number;
  /** This attempt comes back from a place in the line (the previous reply was a refusal). */
  readonly returning: boolean;
}

export type AdmitReply =
  | { readonly admitted: true; /** Start after this long (0: now). */ readonly waitMs: number }
  | { readonly admitted: false; readonly retryMs: number; readonly reason: 'paused' | 'rate' | 'tenant' };

/** Amounts added back to the levels (negative: charged), summed over one tenant's changes. */
export interface Adjustment {
  readonly tenant: string;
  readonly requests: number;
  readonly tokens: number;
  readonly tenantRequests: number;
  readonly tenantTokens: number;
}

export interface BucketState {
  /** Requests that could start now; negative while bookings are due. */
  readonly requests: number;
  readonly tokens: number;
  readonly pausedMs: number;
  /** Fleet-wide counters since the bucket was created. */
  readonly admittedInteractive: number;
  readonly admittedBulk: number;
  readonly refused: number;
}

export type PauseListener = (bucketId: string, pauseMs: number) => void;

export interface LimiterStore {
  /**
   * Applies `adjustments`, then judges `attempts` one after another at one instant, in the order
   * given; resolves with one reply per attempt, in that order.
   */
  admit(bucket: BucketSpec, attempts: readonly AdmitAttempt[], adjustments: readonly Adjustment[]): Promise<AdmitReply[]>;
  adjust(bucket: BucketSpec, adjustments: readonly Adjustment[]): Promise<void>;
  /** Pauses the bucket everywhere; resolves with the pause in force (an existing longer one wins). */
  pause(bucket: BucketSpec, pauseMs: number): Promise<number>;
  inspect(bucket: BucketSpec): Promise<BucketState>;
  /** Pauses set by any process, this one included. Returns the unsubscribe function. */
  onPause(listener: PauseListener): () => void;
  /** Resolves once pause broadcasts are being received (after the first `onPause`). */
  ready(): Promise<void>;
  close(): Promise<void>;
}
