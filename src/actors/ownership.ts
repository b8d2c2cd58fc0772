/**
 * What a partition actor holds while it owns its partition: the fencing token that every
 * checkpoint carries, and a signal that fires the moment ownership is lost.
 */
export interface Ownership {
  readonly partition: number;
  readonly owner: string;
  readonly token: number;
  readonly signal: AbortSignal;
  /** False once the lease may have expired (checked before money is spent). */
  isValid(): boolean;
  /**
   * True while the partition lease itself is still held, even when `signal` fired because the
   * actor is stopping (drain): then a job may still checkpoint that it was interrupted.
   */
  leaseHeld?(): boolean;
}
