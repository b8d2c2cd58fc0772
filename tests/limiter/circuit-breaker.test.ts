import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { BreakerClosedError, CircuitBreaker, type CircuitBreakerOptions } from '../../src/runtime/breaker/circuit-breaker.ts';
import { RedisBreakerStore } from '../../src/runtime/breaker/redis-breaker-store.ts';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';
import { freshPrefix, sleep } from './limiter-support.ts';

describe('CircuitBreaker shared through Redis (real redis-server)', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const breakers: CircuitBreaker[] = [];

  /** A breaker on its own connection, as another process would have. */
  const open = async (keyPrefix: string, options: Partial<CircuitBreakerOptions> = {}): Promise<CircuitBreaker> => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    clients.push(redis);
    const breaker = new CircuitBreaker({
      store: new RedisBreakerStore({ redis, keyPrefix }),
      provider: 'openai',
      failureRateThreshold: 0.5,
      minimumRequests: 4,
      bucketMs: 1000,
      windowMs: 10_000,
      openMs: 300,
      cacheMs: 0,
      pollMs: 30,
      jitterMs: 5,
      ...options,
    });
    breakers.push(breaker);
    return breaker;
  };

  before(async () => {
    server = await startRedisServer();
  });

  after(async () => {
    await Promise.all(breakers.map((b) => b.close()));
    await Promise.all(clients.map((c) => c.quit()));
    await server?.stop();
  });

  it('opens at the threshold, waits out the cool-down, lets one probe through, closes on its success', async () => {
    const prefix = freshPrefix();
    const a = await open(prefix);
    const b = await open(prefix);
    assert.deepEqual(await a.admit(), { probe: false });
    assert.equal(await a.record(true), 'closed');
    assert.equal(await b.record(true), 'closed');
    assert.equal(await a.record(false), 'closed', '1 of 3 failed, and 3 calls are below the minimum volume');
    const opened = performance.now();
    assert.equal(await b.record(false), 'open', '2 of 4 failed: the rate reaches 0.5');
    assert.equal((await a.state()).state, 'open', 'the other instance sees it open');

    // Both wait; after the cool-down exactly one becomes the probe, the other keeps waiting.
    const waiting = [b.admit(), a.admit()];
    const settled = [false, false];
    waiting.forEach((p, i) => void p.then(() => (settled[i] = true)));
    const probe = await Promise.race(waiting);
    const waited = performance.now() - opened;
    assert.ok(waited >= 250 && waited < 700, `the cool-down held calls back ${Math.round(waited)} ms`);
    assert.equal(probe.probe, true);
    const status = await a.state();
    assert.equal(status.state, 'half_open');
    assert.equal(status.probesInFlight, 1);
    await sleep(150);
    assert.equal(settled.filter(Boolean).length, 1, 'no second call while the probe is out');

    assert.equal(await b.record(true), 'closed', 'the probe succeeded');
    const admissions = await Promise.all(waiting);
    assert.equal(admissions.filter((x) => x.probe).length, 1, 'the other waiter goes as a normal call');
    assert.equal((await a.state()).state, 'closed');
  });

  it('a failed probe opens it again for another cool-down', async () => {
    const prefix = freshPrefix();
    const a = await open(prefix);
    const b = await open(prefix);
    for (let i = 0; i < 4; i += 1) await a.record(false);
    assert.equal((await b.state()).state, 'open');
    const probe = await b.admit();
    assert.equal(probe.probe, true);
    const reopened = performance.now();
    assert.equal(await b.record(false), 'open');
    const status = await a.state();
    assert.equal(status.state, 'open');
    assert.ok(status.openForMs > 200 && status.openForMs <= 300, `open for another cool-down: ${status.openForMs} ms`);
    const next = await a.admit();
    assert.equal(next.probe, true);
    assert.ok(performance.now() - reopened >= 250, 'the next probe waited for the new cool-down');
    assert.equal(await a.record(true), 'closed');
  });

  it('below the minimum volume or the threshold it stays closed; failures age out of the window', async () => {
    const a = await open(freshPrefix(), { minimumRequests: 10, failureRateThreshold: 0.6 });
    for (let i = 0; i < 7; i += 1) await a.record(true);
    for (let i = 0; i < 9; i += 1) assert.equal(await a.record(false), 'closed', `${i + 1} of ${i + 8} failed`);
    const status = await a.state();
    assert.equal(status.state, 'closed');
    assert.equal(status.requests, 16);
    assert.equal(status.failures, 9);
    assert.ok(Math.abs(status.failureRate - 9 / 16) < 1e-9);

    // A 300 ms window of 100 ms buckets: three failures are forgotten 400 ms later.
    const b = await open(freshPrefix(), { minimumRequests: 4, bucketMs: 100, windowMs: 300 });
    for (let i = 0; i < 3; i += 1) await b.record(false);
    await sleep(400);
    assert.equal(await b.record(false), 'closed', 'the old failures aged out: 1 call in the window');
    assert.equal((await b.state()).requests, 1);
  });

  it('admit() waiting on an open breaker rejects with the signal reason; close() rejects waiters', async () => {
    const a = await open(freshPrefix(), { openMs: 10_000 });
    for (let i = 0; i < 4; i += 1) await a.record(false);
    const controller = new AbortController();
    const waiting = a.admit(controller.signal);
    const reason = new Error('lease lost');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(waiting, (error) => error === reason);
    const pending = a.admit();
    await Promise.all([a.close(), a.close()]);
    await assert.rejects(pending, BreakerClosedError);
  });

  it('checks its options at construction, naming the field', async () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => undefined);
    const store = new RedisBreakerStore({ redis });
    assert.throws(() => new CircuitBreaker({ store, provider: '' }), /options\.provider/);
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', failureRateThreshold: 0 }), /options\.failureRateThreshold/);
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', minimumRequests: 1.5 }), /options\.minimumRequests/);
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', windowMs: 25_000 }), /options\.windowMs must be a whole multiple of bucketMs/);
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', halfOpenProbes: 0 }), /options\.halfOpenProbes/);
    redis.disconnect();
  });
});
