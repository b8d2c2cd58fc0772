import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ValidationError } from '../../src/errors.ts';
import type { Clock } from '../../src/runtime/clock.ts';
import { LeaseLostError, type LeaseLossReason } from '../../src/runtime/leases/lease-lost-error.ts';
import type { Lease, LeaseStore } from '../../src/runtime/leases/lease-store.ts';
import { RedisLeaseStore } from '../../src/runtime/redis/redis-lease-store.ts';
import { LeaseKeeper } from '../../src/supervisor/lease-keeper.ts';
import { startLeaseFixture, type LeaseFixture } from './lease-fixture.ts';

class FakeClock implements Clock {
  constructor(public ms = 1_000) {}
  now(): Date {
    return new Date(this.ms);
  }
  monotonicMs(): number {
    return this.ms;
  }
}

/** A store whose renewals the test answers by hand. */
class ScriptedStore implements Pick<LeaseStore, 'renewMany' | 'release'> {
  calls: Lease[][] = [];
  released: Lease[] = [];
  answer: (leases: readonly Lease[]) => Promise<boolean[]> = async (leases) => leases.map(() => true);
  renewMany(leases: readonly Lease[]): Promise<boolean[]> {
    this.calls.push([...leases]);
    return this.answer(leases);
  }
  async release(lease: Lease): Promise<void> {
    this.released.push(lease);
  }
}

const lease = (partition: number, acquiredAt: number, token = 7): Lease => ({ partition, owner: 'me', token, acquiredAt, ttlMs: 1_000 });

function lostReason(signal: AbortSignal): LeaseLossReason | undefined {
  return signal.aborted ? (signal.reason as LeaseLostError).reason : undefined;
}

describe('LeaseKeeper with a fake clock', () => {
  it('isValid is false, and the signal aborts, once the deadline passes without a renewal', () => {
    const clock = new FakeClock(1_000);
    const store = new ScriptedStore();
    const lost: LeaseLossReason[] = [];
    const keeper = new LeaseKeeper({ store, clock, ttlMs: 1_000, renewEveryMs: 300, safetyMarginMs: 100, onLost: (_, reason) => lost.push(reason) });
    const ownership = keeper.hold(lease(1, 1_000));
    assert.equal(ownership.token, 7);
    clock.ms = 1_899;
    assert.equal(ownership.isValid(), true);
    assert.equal(ownership.leaseHeld?.(), true);
    assert.equal(ownership.signal.aborted, false);
    // A process stopped (SIGSTOP) across its deadline: the first check after waking says no.
    clock.ms = 1_900;
    assert.equal(ownership.isValid(), false);
    assert.equal(ownership.signal.aborted, true);
    assert.ok(ownership.signal.reason instanceof LeaseLostError);
    assert.equal(lostReason(ownership.signal), 'deadline_passed');
    assert.equal(ownership.leaseHeld?.(), false);
    assert.deepEqual(lost, ['deadline_passed']);
    assert.equal(keeper.ownership(1), undefined);
    assert.equal(store.released.length, 1, 'a lease past its local deadline is released best-effort');
    void keeper.close();
  });

  it('a successful renewal moves the deadline to renewal start + ttl - margin', async () => {
    const clock = new FakeClock(0);
    const store = new ScriptedStore();
    const keeper = new LeaseKeeper({ store, clock, ttlMs: 1_000, renewEveryMs: 300, safetyMarginMs: 100 });
    const ownership = keeper.hold(lease(1, 0));
    clock.ms = 500;
    await keeper.renewNow();
    clock.ms = 1_399;
    assert.equal(ownership.isValid(), true);
    clock.ms = 1_400;
    assert.equal(ownership.isValid(), false);
    await keeper.close();
  });

  it('a renewal answered after the deadline does not revive ownership', async () => {
    const clock = new FakeClock(0);
    const store = new ScriptedStore();
    let answer!: (value: boolean[]) => void;
    store.answer = () => new Promise((resolve) => (answer = resolve));
    const keeper = new LeaseKeeper({ store, clock, ttlMs: 1_000, renewEveryMs: 300, safetyMarginMs: 100 });
    const ownership = keeper.hold(lease(1, 0));
    clock.ms = 800;
    const round = keeper.renewNow();
    clock.ms = 950; // paused past the deadline while the renewal was on the wire
    answer([true]);
    await round;
    assert.equal(ownership.isValid(), false);
    assert.equal(lostReason(ownership.signal), 'deadline_passed');
  });

  it('renews all kept leases in one renewMany call per round; a refused one aborts at once', async () => {
    const clock = new FakeClock(0);
    const store = new ScriptedStore();
    const keeper = new LeaseKeeper({ store, clock, ttlMs: 1_000 });
    const owned = [0, 1, 2, 3].map((p) => keeper.hold(lease(p, 0, 10 + p)));
    store.answer = async (leases) => leases.map((l) => l.partition !== 2);
    await keeper.renewNow();
    assert.equal(store.calls.length, 1);
    assert.deepEqual(store.calls[0]?.map((l) => l.partition), [0, 1, 2, 3]);
    assert.deepEqual(owned.map((o) => o.signal.aborted), [false, false, true, false]);
    assert.equal(lostReason(owned[2]!.signal), 'renewal_refused');
    assert.deepEqual(keeper.leases.map((l) => l.partition), [0, 1, 3]);
    await keeper.renewNow();
    assert.deepEqual(store.calls[1]?.map((l) => l.partition), [0, 1, 3]);
    await keeper.close();
    assert.deepEqual(owned.map((o) => lostReason(o.signal)), ['released', 'released', 'renewal_refused', 'released']);
  });

  it('a failing renewal (Redis unreachable) leaves the deadline to decide', async () => {
    const clock = new FakeClock(0);
    const store = new ScriptedStore();
    const errors: unknown[] = [];
    store.answer = () => Promise.reject(new Error('connection refused'));
    const keeper = new LeaseKeeper({ store, clock, ttlMs: 1_000, safetyMarginMs: 100, onError: (e) => errors.push(e) });
    const ownership = keeper.hold(lease(1, 0));
    clock.ms = 400;
    await keeper.renewNow();
    assert.equal(ownership.isValid(), true);
    assert.equal(errors.length, 1);
    clock.ms = 900;
    await keeper.renewNow();
    assert.equal(lostReason(ownership.signal), 'deadline_passed');
  });

  it('checks its options, naming the field', () => {
    const store = new ScriptedStore();
    assert.throws(() => new LeaseKeeper({ store, ttlMs: 0 }), (e: unknown) => e instanceof ValidationError && /ttlMs/.test(e.message));
    assert.throws(() => new LeaseKeeper({ store, ttlMs: 1_000, renewEveryMs: 900, safetyMarginMs: 100 }), /renewEveryMs/);
    const keeper = new LeaseKeeper({ store, clock: new FakeClock(0), ttlMs: 1_000 });
    assert.equal(keeper.renewEveryMs, 333);
    assert.equal(keeper.safetyMarginMs, 100);
    keeper.hold(lease(1, 0));
    assert.throws(() => keeper.hold(lease(1, 0, 99)), /already kept/);
    void keeper.close();
  });
});

describe('LeaseKeeper against Redis', () => {
  let fx: LeaseFixture;
  let redis: Redis;
  let store: RedisLeaseStore;

  before(async () => {
    fx = await startLeaseFixture({ dynamo: false });
    redis = fx.client();
    store = new RedisLeaseStore(redis, fx.minter);
  });

  after(async () => {
    await fx?.stop();
  });

  it('keeps a lease alive past its TTL, then aborts the moment the key is deleted', async () => {
    const held = await store.acquire(1, 'me', 300);
    assert.ok(held);
    const keeper = new LeaseKeeper({ store, ttlMs: 300, renewEveryMs: 60, safetyMarginMs: 30 });
    keeper.start();
    const ownership = keeper.hold(held);
    await sleep(450);
    assert.equal(ownership.isValid(), true);
    assert.equal((await store.current(1))?.owner, 'me');
    await redis.del(store.key(1));
    const aborted = new Promise<void>((resolve) => ownership.signal.addEventListener('abort', () => resolve(), { once: true }));
    await aborted;
    assert.equal(lostReason(ownership.signal), 'renewal_refused');
    await keeper.close();
  });

  it('aborts when another owner took the lease after it expired', async () => {
    const clock = new FakeClock(0);
    const held = await store.acquire(2, 'me', 100);
    assert.ok(held);
    // The keeper's clock stands still: only Redis notices the lease expire (a stalled renewer).
    const keeper = new LeaseKeeper({ store, clock, ttlMs: 5_000 });
    const ownership = keeper.hold({ ...held, acquiredAt: 0, ttlMs: 5_000 });
    await sleep(150);
    const thief = await store.acquire(2, 'other', 5_000);
    assert.ok(thief && thief.token > held.token);
    await keeper.renewNow();
    assert.equal(lostReason(ownership.signal), 'renewal_refused');
    assert.equal((await store.current(2))?.owner, 'other', 'the former owner did not touch the new grant');
    await keeper.close();
  });

  it('aborts by its deadline while Redis does not answer at all (SIGSTOP of redis-server)', async () => {
    const held = await store.acquire(3, 'me', 800);
    assert.ok(held);
    const keeper = new LeaseKeeper({ store, ttlMs: 800, renewEveryMs: 150, safetyMarginMs: 100, onError: () => undefined });
    keeper.start();
    const ownership = keeper.hold(held);
    const pid = fx.redis.pid;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = performance.now();
    try {
      await new Promise<void>((resolve) => ownership.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const waited = performance.now() - stoppedAt;
    assert.equal(lostReason(ownership.signal), 'deadline_passed');
    assert.ok(waited < 800, `aborted ${Math.round(waited)} ms after Redis stopped answering, before the lease could expire`);
    await keeper.close();
  });

  it('close() releases every kept lease in Redis and is safe to call twice', async () => {
    const keeper = new LeaseKeeper({ store, ttlMs: 5_000 });
    keeper.start();
    const owned = [];
    for (const p of [10, 11, 12]) {
      const held = await store.acquire(p, 'me', 5_000);
      assert.ok(held);
      owned.push(keeper.hold(held));
    }
    await Promise.all([keeper.close(), keeper.close()]);
    assert.deepEqual(owned.map((o) => lostReason(o.signal)), ['released', 'released', 'released']);
    assert.equal((await store.listAll([10, 11, 12])).size, 0);
    assert.throws(() => keeper.hold(lease(13, 0)), /closed/);
  });
});
