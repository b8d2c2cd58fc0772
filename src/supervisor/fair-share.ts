import { ValidationError } from '../errors.ts';

export interface FairShareInput {
  /** P: the partitions are 0..P-1. */
  partitions: number;
  /**
   * The live member ids, in any order. `me` is counted even if absent: a member planning is alive,
   * and a membership set just lost with Redis' data must not make it drop all it holds.
   */
  members: readonly string[];
  /** The current holder of every held partition; a partition not in the map is free. */
  owners: ReadonlyMap<number, string>;
  me: string;
}

export interface FairSharePlan {
  /** How many partitions `me` should hold: ⌊P/N⌋ or ⌈P/N⌉. */
  quota: number;
  /** What `me` should end up holding (sorted): its kept holdings plus what it acquires. */
  target: number[];
  /**
   * Partitions to try to acquire, best first: free ones, then those held by members no longer
   * live (their leases will expire). An acquire that loses a race is simply retried next round.
   */
  toAcquire: number[];
  /** Partitions `me` holds above its quota: drain, then release (sorted). */
  toRelease: number[];
}

/**
 * Each member's quota: ⌊P/N⌋, and ⌈P/N⌉ for P mod N of them. The extra ones go to the members
 * holding the most now (ties: smaller id), so a join or leave moves as few partitions as it can.
 * Every member computes the same answer from the same view.
 */
export function fairShareQuotas(partitions: number, members: readonly string[], owners: ReadonlyMap<number, string>): Map<string, number> {
  const unique = [...new Set(members)];
  const quotas = new Map<string, number>();
  if (unique.length === 0) return quotas;
  const held = new Map<string, number>(unique.map((m) => [m, 0]));
  for (const [partition, owner] of owners) {
    if (partition < partitions && held.has(owner)) held.set(owner, (held.get(owner) ?? 0) + 1);
  }
  const base = Math.floor(partitions / unique.length);
  const extra = partitions % unique.length;
  const ranked = unique.sort((a, b) => (held.get(b) ?? 0) - (held.get(a) ?? 0) || compareIds(a, b));
  ranked.forEach((member, rank) => quotas.set(member, base + (rank < extra ? 1 : 0)));
  return quotas;
}

/**
 * What `me` should do this round. Pure: the supervisor feeds it the live members and the lease
 * holders, then acquires and drains. Stable: `me` keeps what it holds up to its quota, and which
 * partitions it keeps, gives up or takes is decided by rendezvous hashing (highest score for
 * (member, partition) first), so members rarely race for the same free partition and a
 * partition tends to return to the member it had before.
 */
export function planFairShare(input: FairShareInput): FairSharePlan {
  const { partitions, owners, me } = checkInput(input);
  const members = input.members.includes(me) ? input.members : [...input.members, me];
  const live = new Set(members);
  const quota = fairShareQuotas(partitions, members, owners).get(me) ?? 0;

  const byPreference = (list: number[]): number[] =>
    list.map((p) => ({ p, score: preference(me, p) })).sort((a, b) => b.score - a.score || a.p - b.p).map((x) => x.p);

  const mine: number[] = [];
  const free: number[] = [];
  const orphaned: number[] = [];
  for (let p = 0; p < partitions; p += 1) {
    const owner = owners.get(p);
    if (owner === me) mine.push(p);
    else if (owner === undefined) free.push(p);
    else if (!live.has(owner)) orphaned.push(p);
  }

  const ranked = byPreference(mine);
  const keep = ranked.slice(0, quota);
  const toRelease = ranked.slice(quota).sort(ascending);
  const deficit = quota - keep.length;
  const toAcquire = deficit > 0 ? [...byPreference(free), ...byPreference(orphaned)].slice(0, deficit) : [];
  return { quota, target: [...keep, ...toAcquire].sort(ascending), toAcquire, toRelease };
}

function ascending(a: number, b: number): number {
  return a - b;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A well-mixed 32-bit score for (member, partition): FNV-1a, then murmur3's finalizer. */
function preference(member: string, partition: number): number {
  let h = 0x811c9dc5;
  const text = `${member}\u0000${partition}`;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkInput(input: FairShareInput): FairShareInput {
  if (input === null || typeof input !== 'object') throw new ValidationError('fair_share_input_invalid', 'planFairShare: input must be an object');
  if (!Number.isInteger(input.partitions) || input.partitions < 0) {
    throw new ValidationError('fair_share_input_invalid', `planFairShare: input.partitions must be a non-negative integer, got ${JSON.stringify(input.partitions)}`);
  }
  if (!Array.isArray(input.members) || input.members.some((m) => typeof m !== 'string' || m === '')) {
    throw new ValidationError('fair_share_input_invalid', 'planFairShare: input.members must be an array of non-empty strings');
  }
  if (!(input.owners instanceof Map)) throw new ValidationError('fair_share_input_invalid', 'planFairShare: input.owners must be a Map of partition to owner');
  if (typeof input.me !== 'string' || input.me === '') throw new ValidationError('fair_share_input_invalid', 'planFairShare: input.me must be a non-empty string');
  return input;
}
