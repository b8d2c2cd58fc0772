import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ValidationError } from '../../src/errors.ts';
import type { Lease, TokenMinter } from '../../src/runtime/leases/lease-store.ts';
import { RedisLeaseStore } from '../../src/runtime/redis/redis-lease-store.ts';
import { startLeaseFixture, type LeaseFixture } from './lease-fixture.ts';

let fx: LeaseFixture;
let redis: Redis;
let store: RedisLeaseStore;
let partitionSeq = 0;
/** A partition no other test touches (one Redis and one fences table for the whole file). */
const freshPartition = (): number => (partitionSeq += 1);

before(async () => {
  fx = await startLeaseFixture({ dynamo: true });
  redis = fx.client();
  store = new RedisLeaseStore(redis, fx.minter);
});

after(async () => {
  await fx?.stop();
});

/** Server-side call counts from INFO commandstats, read on a separate connection. */
async function commandStats(probe: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const match of (await probe.info('commandstats')).matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    stats.set(match[1] as string, Number(match[2]));
  }
  return stats;
}

/** Counts commands the client sends (a Lua call is one; a pipeline of n is n). */
function countSends(client: Redis): { readonly count: number; restore(): void } {
  const original = client.sendCommand.bind(client);
  let count = 0;
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    count += 1;
    return original(...args);
  }) as Redis['sendCommand'];
  return {
    get count() {
      return count;
    },
    restore() {
      client.sendCommand = original;
    },
  };
}

describe('RedisLeaseStore: owner compare', () => {
  it('acquire, renew and release compare the owner and token; another owner can do none of them', async () => {
    const p = freshPartition();
    const a = await store.acquire(p, 'owner-a', 5_000);
    assert.ok(a);
    assert.equal(a.owner, 'owner-a');
    assert.equal(a.partition, p);
    assert.equal(await store.acquire(p, 'owner-b', 5_000), null, 'held by a: b cannot acquire');

    const forged: Lease = { ...a, owner: 'owner-b' };
    assert.equal(await store.renew(forged, 5_000), false, 'b cannot renew a');
    await store.release(forged);
    assert.equal((await store.current(p))?.owner, 'owner-a', 'b cannot release a');
    assert.equal(await store.renew({ ...a, token: a.token + 1 }, 5_000), false, 'a wrong token cannot renew');

    assert.equal(await store.renew(a, 5_000), true);
    const held = await store.current(p);
    assert.equal(held?.owner, 'owner-a');
    assert.equal(held?.token, a.token);
    assert.ok(held && held.ttlMs > 4_000 && held.ttlMs <= 5_000);

    await store.release(a);
    assert.equal(await store.current(p), null);
    assert.equal(await store.renew(a, 5_000), false, 'a released lease cannot be renewed back');
    const b = await store.acquire(p, 'owner-b', 5_000);
    assert.ok(b && b.token > a.token);
  });

  it('expiry lets another owner acquire; the expired holder can neither renew nor release', async () => {
    const p = freshPartition();
    const a = await store.acquire(p, 'owner-a', 120);
    assert.ok(a);
    await sleep(180);
    const b = await store.acquire(p, 'owner-b', 5_000);
    assert.ok(b, 'free after expiry');
    assert.ok(b.token > a.token);
    assert.equal(await store.renew(a, 5_000), false);
    await store.release(a);
    assert.equal((await store.current(p))?.owner, 'owner-b');
  });

  it('the same owner id acquiring again gets a higher token and its older grant is lost', async () => {
    const p = freshPartition();
    const first = await store.acquire(p, 'owner-a', 5_000);
    const second = await store.acquire(p, 'owner-a', 5_000);
    assert.ok(first && second && second.token > first.token);
    assert.equal(await store.renew(first, 5_000), false);
    assert.equal(await store.renew(second, 5_000), true);
  });

  it('lease keys share one hash tag and expire like leases', async () => {
    const p = freshPartition();
    const a = await store.acquire(p, 'owner-a', 3_000);
    assert.ok(a);
    assert.equal(store.key(p), `{warden}:lease:${p}`);
    const pttl = await redis.pttl(store.key(p));
    assert.ok(pttl > 2_000 && pttl <= 3_000);
    assert.deepEqual(await redis.hgetall(store.key(p)), { owner: 'owner-a', nonce: (await redis.hget(store.key(p), 'nonce')) as string, token: String(a.token) });
  });

  it('refuses bad arguments with errors naming them', async () => {
    await assert.rejects(store.acquire(1, 'a', 0), (error: unknown) => error instanceof ValidationError && /ttlMs/.test(error.message));
    await assert.rejects(store.acquire(-1, 'a', 100), /partition/);
    await assert.rejects(store.acquire(1, '', 100), /owner/);
  });
});

describe('RedisLeaseStore: fencing tokens', () => {
  it('tokens strictly increase over many acquisitions by different owners', async () => {
    const p = freshPartition();
    const tokens: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      const lease = await store.acquire(p, `owner-${i % 3}`, 5_000);
      assert.ok(lease);
      tokens.push(lease.token);
      await store.release(lease);
    }
    for (let i = 1; i < tokens.length; i += 1) assert.ok((tokens[i] as number) > (tokens[i - 1] as number), `token ${i}: ${tokens.join(',')}`);
  });

  it('tokens monotonic across a Redis restart with data loss', async () => {
    const p = freshPartition();
    const before: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const lease = await store.acquire(p, 'owner-a', 5_000);
      assert.ok(lease);
      before.push(lease.token);
      await store.release(lease);
    }
    const held = await store.acquire(p, 'owner-a', 60_000);
    assert.ok(held);
    before.push(held.token);

    await fx.redis.restart({ wipe: true });

    assert.equal(await store.current(p), null, 'Redis forgot the lease');
    assert.equal(await store.renew(held, 60_000), false, 'the pre-restart holder learns it lost');
    const after = await store.acquire(p, 'owner-b', 5_000);
    assert.ok(after);
    assert.ok(after.token > Math.max(...before), `token ${after.token} after the wipe must exceed ${Math.max(...before)}`);
    assert.equal(await store.renew(after, 5_000), true);
    // The stale holder cannot delete the new grant either.
    await store.release(held);
    assert.equal((await store.current(p))?.owner, 'owner-b');
  });

  it('of 10 clients racing for one free partition exactly one wins, and only the winner mints', async () => {
    let mints = 0;
    const counting: TokenMinter = { mint: (partition, owner) => ((mints += 1), fx.minter.mint(partition, owner)) };
    const stores = Array.from({ length: 10 }, () => new RedisLeaseStore(fx.client(), counting));
    await Promise.all(stores.map((s) => s.current(0)));
    for (let round = 0; round < 5; round += 1) {
      const p = freshPartition();
      mints = 0;
      const results = await Promise.all(stores.map((s, i) => s.acquire(p, `racer-${i}`, 5_000)));
      const winners = results.filter((lease): lease is Lease => lease !== null);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
      assert.equal(mints, 1);
      assert.equal((await store.current(p))?.owner, winners[0]?.owner);
    }
  });

  it('an attempt that stalls between reserve and confirm loses, and its minted token is never used', async () => {
    const p = freshPartition();
    let release!: () => void;
    let stalled!: () => void;
    const inMint = new Promise<void>((resolve) => (stalled = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowMinter: TokenMinter = {
      async mint(partition, owner) {
        stalled();
        await gate;
        return fx.minter.mint(partition, owner);
      },
    };
    const slow = new RedisLeaseStore(fx.client(), slowMinter);

    const attempt = slow.acquire(p, 'stalled', 150);
    await inMint;
    assert.equal(await store.acquire(p, 'fast', 5_000), null, 'the reservation holds the partition while it lives');
    await sleep(220);
    const fast = await store.acquire(p, 'fast', 5_000);
    assert.ok(fast, 'the reservation expired: another owner is granted');
    release();
    assert.equal(await attempt, null, 'the stalled attempt minted a higher token but cannot confirm it');
    const holder = await store.current(p);
    assert.equal(holder?.owner, 'fast');
    assert.equal(holder?.token, fast.token);
    assert.equal(await store.renew(fast, 5_000), true);
  });

  it('an attempt whose reservation is wiped with Redis data loses', async () => {
    const p = freshPartition();
    let release!: () => void;
    let stalled!: () => void;
    const inMint = new Promise<void>((resolve) => (stalled = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new RedisLeaseStore(fx.client(), {
      async mint(partition, owner) {
        stalled();
        await gate;
        return fx.minter.mint(partition, owner);
      },
    });
    const attempt = slow.acquire(p, 'stalled', 60_000);
    await inMint;
    await fx.redis.restart({ wipe: true });
    const fast = await store.acquire(p, 'fast', 5_000);
    assert.ok(fast);
    release();
    assert.equal(await attempt, null);
    assert.equal((await store.current(p))?.owner, 'fast');
  });

  it('a failed mint frees the reservation at once', async () => {
    const p = freshPartition();
    const failing = new RedisLeaseStore(redis, { mint: () => Promise.reject(new Error('dynamodb down')) });
    await assert.rejects(failing.acquire(p, 'a', 60_000), /dynamodb down/);
    assert.equal(await store.current(p), null);
  });
});

describe('RedisLeaseStore: renewMany and listAll', () => {
  it('renews 64 leases in one round trip and reports each lost one', async () => {
    const leases: Lease[] = [];
    for (let i = 0; i < 64; i += 1) {
      const lease = await store.acquire(freshPartition(), 'owner-many', 5_000);
      assert.ok(lease);
      leases.push(lease);
    }
    const probe = fx.client();
    const before = await commandStats(probe);
    const sends = countSends(redis);
    const results = await store.renewMany(leases, 5_000);
    sends.restore();
    const after = await commandStats(probe);
    assert.deepEqual(results, leases.map(() => true));
    assert.equal(sends.count, 1, 'one command sent');
    const scripts = (m: Map<string, number>) => (m.get('evalsha') ?? 0) + (m.get('eval') ?? 0);
    assert.equal(scripts(after) - scripts(before), 1, 'one script call on the server');

    // One renew is one round trip too.
    const single = countSends(redis);
    assert.equal(await store.renew(leases[0] as Lease, 5_000), true);
    single.restore();
    assert.equal(single.count, 1);

    await redis.del(store.key((leases[3] as Lease).partition));
    const mixed = await store.renewMany(leases, 5_000);
    assert.deepEqual(mixed, leases.map((_, i) => i !== 3));
    assert.deepEqual(await store.renewMany([], 5_000), []);
  });

  it('listAll reads every holder in one call, a grant in progress with a null token', async () => {
    const [p1, p2, p3] = [freshPartition(), freshPartition(), freshPartition()];
    const a = await store.acquire(p1, 'owner-a', 5_000);
    assert.ok(a);
    await redis.hset(store.key(p3), 'owner', 'owner-c', 'nonce', 'n');
    await redis.pexpire(store.key(p3), 5_000);
    const sends = countSends(redis);
    const all = await store.listAll([p1, p2, p3]);
    sends.restore();
    assert.equal(sends.count, 1);
    assert.deepEqual([...all.keys()], [p1, p3]);
    assert.equal(all.get(p1)?.owner, 'owner-a');
    assert.equal(all.get(p1)?.token, a.token);
    assert.deepEqual({ ...all.get(p3), ttlMs: 0 }, { owner: 'owner-c', token: null, ttlMs: 0 });
    assert.equal(await store.current(p2), null);
  });
});
