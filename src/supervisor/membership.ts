import { ValidationError, WardenError } from '../errors.ts';
import type { MemberRegistry } from '../runtime/leases/member-registry.ts';

export interface MembershipOptions {
  /**
   * How long a member stays live after its last heartbeat. Default 10 000 ms. Heartbeat at least
   * every third of it, so one late or failed heartbeat does not make the member look dead.
   */
  ttlMs?: number;
}

/**
 * This process' place in the fleet: join, heartbeat, leave, and who else is live. The live
 * member list is what fair share divides the partitions by.
 */
export class Membership {
  readonly ttlMs: number;
  private memberId: string | undefined;

  constructor(
    private readonly registry: MemberRegistry,
    options: MembershipOptions = {},
  ) {
    const ttlMs = options.ttlMs ?? 10_000;
    if (!Number.isInteger(ttlMs) || ttlMs < 1) {
      throw new ValidationError('membership_option_invalid', `Membership: options.ttlMs must be a positive integer, got ${JSON.stringify(options.ttlMs)}`);
    }
    this.ttlMs = ttlMs;
  }

  /** The id this process joined with; undefined before join() and after leave(). */
  get id(): string | undefined {
    return this.memberId;
  }

  /** Registers `id` and returns the live members (sorted), this one included. */
  async join(id: string): Promise<string[]> {
    if (typeof id !== 'string' || id === '') throw new ValidationError('membership_argument_invalid', 'Membership.join: id must be a non-empty string');
    if (this.memberId !== undefined && this.memberId !== id) {
      throw new WardenError('membership_already_joined', `Membership.join: already joined as ${this.memberId}`);
    }
    this.memberId = id;
    return this.registry.heartbeat(id, this.ttlMs);
  }

  /** Refreshes this member and returns the live members (sorted): one round trip. */
  async heartbeat(): Promise<string[]> {
    if (this.memberId === undefined) throw new WardenError('membership_not_joined', 'Membership.heartbeat: join() first');
    return this.registry.heartbeat(this.memberId, this.ttlMs);
  }

  /** Deregisters at once so the others rebalance without waiting for the TTL. Idempotent. */
  async leave(): Promise<void> {
    const id = this.memberId;
    if (id === undefined) return;
    this.memberId = undefined;
    await this.registry.remove(id);
  }

  /** The live members, sorted, expired ones pruned. */
  liveMembers(): Promise<string[]> {
    return this.registry.live();
  }
}
