import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import { fairShareQuotas, planFairShare } from '../../src/supervisor/fair-share.ts';

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A fleet around one shared ownership map, standing in for the leases in Redis. */
class Fleet {
  readonly owners = new Map<number, string>();
  members: string[] = [];

  constructor(
    readonly partitions: number,
    private readonly random: () => number,
  ) {}

  /**
   * Rounds until nothing changes: in each round every live member, in a random order, plans
   * against the current map, releases, then acquires what is free (an acquire of a held
   * partition fails, as it does in Redis). Returns the rounds it took.
   */
  settle(maxRounds = 12): number {
    for (let round = 1; round <= maxRounds; round += 1) {
      let changed = false;
      for (const me of shuffled(this.members, this.random)) {
        const plan = planFairShare({ partitions: this.partitions, members: this.members, owners: this.owners, me });
        for (const p of plan.toRelease) {
          assert.equal(this.owners.get(p), me, 'releases only what it holds');
          this.owners.delete(p);
          changed = true;
        }
        for (const p of plan.toAcquire) {
          assert.notEqual(this.owners.get(p), me, 'never re-acquires what it holds');
          if (this.owners.has(p)) continue;
          this.owners.set(p, me);
          changed = true;
        }
      }
      if (!changed) return round;
    }
    assert.fail(`no convergence in ${maxRounds} rounds: P=${this.partitions}, members=${this.members.join(',')}`);
  }

  join(id: string): void {
    this.members = [...this.members, id].sort();
  }

  /** Graceful: releases everything at once. */
  leave(id: string): void {
    this.members = this.members.filter((m) => m !== id);
    for (const [p, owner] of this.owners) if (owner === id) this.owners.delete(p);
  }

  /** kill -9: its leases stay held until they expire (expireDead). */
  crash(id: string): void {
    this.members = this.members.filter((m) => m !== id);
  }

  expireDead(): void {
    for (const [p, owner] of this.owners) if (!this.members.includes(owner)) this.owners.delete(p);
  }

  snapshot(): Map<number, string> {
    return new Map(this.owners);
  }

  assertBalanced(context: string): void {
    const n = this.members.length;
    const floor = Math.floor(this.partitions / n);
    const ceil = Math.ceil(this.partitions / n);
    for (let p = 0; p < this.partitions; p += 1) {
      assert.ok(this.members.includes(this.owners.get(p) ?? ''), `${context}: partition ${p} owned by ${this.owners.get(p)}`);
    }
    assert.equal(this.owners.size, this.partitions, `${context}: no partition outside 0..P-1`);
    const counts = new Map(this.members.map((m) => [m, 0]));
    for (const owner of this.owners.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    for (const [member, count] of counts) {
      assert.ok(count >= floor && count <= ceil, `${context}: ${member} holds ${count}, outside ${floor}..${ceil} (P=${this.partitions}, N=${n})`);
    }
  }
}

function moved(before: Map<number, string>, after: Map<number, string>): number[] {
  const out: number[] = [];
  for (const [p, owner] of before) if (after.get(p) !== owner) out.push(p);
  return out;
}

const SEEDS = Array.from({ length: 60 }, (_, i) => 1_000 + i * 7_919);

describe('fair share (pure)', () => {
  it('quotas are ⌊P/N⌋ or ⌈P/N⌉ and sum to P; the extra ones go to the largest holders', () => {
    const owners = new Map([[0, 'c'], [1, 'c'], [2, 'b']]);
    const quotas = fairShareQuotas(10, ['a', 'b', 'c'], owners);
    assert.deepEqual(Object.fromEntries(quotas), { c: 4, b: 3, a: 3 });
    for (const seed of SEEDS) {
      const random = prng(seed);
      const p = Math.floor(random() * 130);
      const n = 1 + Math.floor(random() * 9);
      const members = Array.from({ length: n }, (_, i) => `m${i}`);
      const q = fairShareQuotas(p, members, new Map());
      assert.equal([...q.values()].reduce((a, b) => a + b, 0), p);
      for (const v of q.values()) assert.ok(v === Math.floor(p / n) || v === Math.ceil(p / n));
    }
  });

  it('a lone member takes everything; keeps what it holds; counts itself if missing from members', () => {
    const plan = planFairShare({ partitions: 8, members: [], owners: new Map([[3, 'dead']]), me: 'solo' });
    assert.equal(plan.quota, 8);
    assert.deepEqual(plan.target, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(plan.toAcquire.slice(-1), [3], 'a partition of a dead member comes last: its lease must expire first');
    assert.deepEqual(plan.toRelease, []);
    const keeps = planFairShare({ partitions: 4, members: ['a', 'b'], owners: new Map([[0, 'a'], [1, 'a'], [2, 'a']]), me: 'a' });
    assert.equal(keeps.quota, 2);
    assert.equal(keeps.toRelease.length, 1);
    assert.deepEqual(keeps.toAcquire, []);
    assert.deepEqual([...keeps.target, ...keeps.toRelease].sort(), [0, 1, 2]);
  });

  it('is deterministic', () => {
    const input = { partitions: 64, members: ['a', 'b', 'c'], owners: new Map([[5, 'b'], [9, 'a']]), me: 'c' };
    assert.deepEqual(planFairShare(input), planFairShare({ ...input, members: ['c', 'a', 'b'] }));
  });

  it('checks its input, naming the field', () => {
    assert.throws(() => planFairShare({ partitions: -1, members: [], owners: new Map(), me: 'a' }), (e: unknown) => e instanceof ValidationError && /partitions/.test(e.message));
    assert.throws(() => planFairShare({ partitions: 1, members: [''], owners: new Map(), me: 'a' }), /members/);
    assert.throws(() => planFairShare({ partitions: 1, members: [], owners: new Map(), me: '' }), /me/);
  });

  it('converges for 1 → 4 → 2 members, moving on a join only what the joiner needs, on a leave nothing of the survivors', () => {
    for (const seed of SEEDS) {
      const random = prng(seed);
      const partitions = seed % 5 === 0 ? 64 : 1 + Math.floor(random() * 100);
      const ids = shuffled(['sup-a', 'sup-b', 'sup-c', 'sup-d', 'i-07f', 'i-0a1'], random).slice(0, 4);
      const fleet = new Fleet(partitions, random);
      const context = (what: string) => `seed ${seed}, P=${partitions}, ${what}`;

      fleet.join(ids[0] as string);
      fleet.settle();
      fleet.assertBalanced(context('1 member'));

      for (const id of ids.slice(1)) {
        const before = fleet.snapshot();
        fleet.join(id);
        fleet.settle();
        fleet.assertBalanced(context(`join of ${id}`));
        const n = fleet.members.length;
        const moves = moved(before, fleet.owners);
        // The minimum: the joiner's quota, all of it to the joiner (at most ⌈P/N⌉), none between old members.
        assert.ok(moves.length <= Math.ceil(partitions / n), context(`join of ${id} moved ${moves.length} > ⌈P/N⌉ = ${Math.ceil(partitions / n)}`));
        const others = moves.filter((p) => fleet.owners.get(p) !== id);
        assert.deepEqual(others, [], context(`join of ${id}: partitions moved between old members`));
      }

      // 4 → 2: one leaves gracefully, one is killed and its leases expire later.
      const [leaver, victim] = shuffled(fleet.members, random) as [string, string];
      for (const [event, id] of [['leave', leaver], ['crash', victim]] as const) {
        const before = fleet.snapshot();
        if (event === 'leave') fleet.leave(id);
        else {
          fleet.crash(id);
          fleet.settle();
          fleet.expireDead();
        }
        fleet.settle();
        fleet.assertBalanced(context(`${event} of ${id}`));
        const survivorsMoved = moved(before, fleet.owners).filter((p) => before.get(p) !== id);
        assert.deepEqual(survivorsMoved, [], context(`${event} of ${id} moved survivors' partitions`));
      }
      assert.equal(fleet.members.length, 2);
    }
  });

  it('converges from any state: random joins, leaves, crashes and expiries', () => {
    for (const seed of SEEDS) {
      const random = prng(seed);
      const partitions = 1 + Math.floor(random() * 80);
      const fleet = new Fleet(partitions, random);
      const pool = Array.from({ length: 8 }, (_, i) => `m${i}`);
      fleet.join('m0');
      for (let step = 0; step < 12; step += 1) {
        const outside = pool.filter((m) => !fleet.members.includes(m));
        const roll = random();
        if ((roll < 0.45 || fleet.members.length === 1) && outside.length > 0) fleet.join(outside[Math.floor(random() * outside.length)] as string);
        else if (fleet.members.length > 1) {
          const id = fleet.members[Math.floor(random() * fleet.members.length)] as string;
          if (roll < 0.7) fleet.leave(id);
          else fleet.crash(id);
        }
        // Sometimes a change lands before the fleet settled from the last one.
        if (random() < 0.3) continue;
        fleet.settle();
        fleet.expireDead();
        fleet.settle();
        fleet.assertBalanced(`seed ${seed}, step ${step}`);
      }
    }
  });
});
