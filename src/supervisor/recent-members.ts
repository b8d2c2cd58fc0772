import type { Clock } from '../runtime/clock.ts';

/**
 * The members this process has seen alive within the membership TTL. Fair share divides by
 * these, not only by what Redis says right now: after Redis loses its data the live set is
 * briefly just "me", and a member trusting it would grab every partition from members that are
 * alive and about to heartbeat again.
 */
export class RecentMembers {
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  observe(live: readonly string[]): string[] {
    const now = this.clock.monotonicMs();
    for (const id of live) this.lastSeen.set(id, now);
    for (const [id, at] of this.lastSeen) if (now - at > this.ttlMs) this.lastSeen.delete(id);
    return [...this.lastSeen.keys()].sort();
  }

  forget(id: string): void {
    this.lastSeen.delete(id);
  }
}
