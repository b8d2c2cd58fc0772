import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { ValidationError } from '../../src/errors.ts';
import { RedisMemberRegistry } from '../../src/runtime/redis/redis-member-registry.ts';
import { Membership } from '../../src/supervisor/membership.ts';
import { startLeaseFixture, type LeaseFixture } from './lease-fixture.ts';

describe('Membership on Redis', () => {
  let fx: LeaseFixture;
  let redis: Redis;
  let prefixSeq = 0;
  const registry = () => new RedisMemberRegistry(redis, { prefix: `{test${(prefixSeq += 1)}}` });

  before(async () => {
    fx = await startLeaseFixture({ dynamo: false });
    redis = fx.client();
  });

  after(async () => {
    await fx?.stop();
  });

  it('join returns the live members sorted, this one included; leave removes at once', async () => {
    const shared = registry();
    const b = new Membership(shared, { ttlMs: 5_000 });
    const a = new Membership(shared, { ttlMs: 5_000 });
    const c = new Membership(shared, { ttlMs: 5_000 });
    assert.deepEqual(await b.join('member-b'), ['member-b']);
    assert.deepEqual(await a.join('member-a'), ['member-a', 'member-b']);
    assert.deepEqual(await c.join('member-c'), ['member-a', 'member-b', 'member-c']);
    assert.equal(a.id, 'member-a');
    await b.leave();
    await b.leave();
    assert.equal(b.id, undefined);
    assert.deepEqual(await a.liveMembers(), ['member-a', 'member-c']);
    assert.deepEqual(await c.heartbeat(), ['member-a', 'member-c']);
  });

  it('a member that stops heartbeating expires; one that keeps heartbeating stays', async () => {
    const shared = registry();
    const steady = new Membership(shared, { ttlMs: 300 });
    const silent = new Membership(shared, { ttlMs: 300 });
    await steady.join('steady');
    await silent.join('silent');
    for (let i = 0; i < 8; i += 1) {
      await sleep(50);
      await steady.heartbeat();
    }
    assert.deepEqual(await steady.liveMembers(), ['steady']);
    assert.equal(await redis.zscore(shared.key, 'silent'), null, 'pruned from the set, not just filtered');
    assert.deepEqual(await silent.heartbeat(), ['silent', 'steady'], 'a member that comes back rejoins with its next heartbeat');
  });

  it('a heartbeat is one round trip', async () => {
    const shared = registry();
    const m = new Membership(shared, { ttlMs: 5_000 });
    await m.join('one');
    const original = redis.sendCommand.bind(redis);
    let sends = 0;
    redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => ((sends += 1), original(...args))) as Redis['sendCommand'];
    try {
      await m.heartbeat();
    } finally {
      redis.sendCommand = original;
    }
    assert.equal(sends, 1);
  });

  it('comes back after Redis loses its data', async () => {
    const shared = registry();
    const m = new Membership(shared, { ttlMs: 5_000 });
    await m.join('survivor');
    await fx.redis.restart({ wipe: true });
    assert.deepEqual(await m.liveMembers(), []);
    assert.deepEqual(await m.heartbeat(), ['survivor']);
  });

  it('checks its options and its state', async () => {
    const shared = registry();
    assert.throws(() => new Membership(shared, { ttlMs: 0 }), (e: unknown) => e instanceof ValidationError && /ttlMs/.test(e.message));
    const m = new Membership(shared);
    assert.equal(m.ttlMs, 10_000);
    await assert.rejects(m.heartbeat(), /join\(\) first/);
    await m.join('x');
    await assert.rejects(m.join('y'), /already joined/);
  });
});
