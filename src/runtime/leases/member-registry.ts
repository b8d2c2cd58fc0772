/**
 * The membership port: who is alive in the fleet. Expiry is judged by the backend's clock (Redis
 * TIME in the adapter), so members on hosts with skewed clocks still agree on who is live.
 */
export interface MemberRegistry {
  /**
   * Registers or refreshes `id` as live for `ttlMs`, prunes expired members and returns the live
   * ids, sorted. One round trip.
   */
  heartbeat(id: string, ttlMs: number): Promise<string[]>;
  /** Removes `id` at once (a graceful leave). */
  remove(id: string): Promise<void>;
  /** The live ids, sorted (expired ones pruned). */
  live(): Promise<string[]>;
}
