import { WardenError } from '../../errors.ts';

export type LeaseLossReason =
  /** The backend refused a renewal: the lease expired and was taken, deleted, or forgotten. */
  | 'renewal_refused'
  /** No renewal succeeded before the local monotonic deadline (a pause, a Redis outage). */
  | 'deadline_passed'
  /** The holder gave the lease up itself (hand-off, drain, close). */
  | 'released';

/**
 * The reason an Ownership signal aborts with: the partition is no longer (certainly) ours, so any
 * result still being produced under it is discarded. Not retryable under this lease; a new grant
 * brings a new token.
 */
export class LeaseLostError extends WardenError {
  constructor(
    readonly partition: number,
    readonly token: number,
    readonly reason: LeaseLossReason,
  ) {
    super('lease_lost', `lease on partition ${partition} (token ${token}) lost: ${reason}; results under it are discarded`, {
      details: { partition, token, reason },
    });
  }
}
