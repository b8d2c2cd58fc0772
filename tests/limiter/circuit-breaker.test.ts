import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { BreakerOutcomes, BreakerPolicy, BreakerStore } from '../../src/runtime/breaker/breaker-store.ts';
import { BreakerClosedError, CircuitBreaker, type CircuitBreakerOptions } from '../../src/runtime/breaker/circuit-breaker.ts';
import { RedisBreakerStore } from '../../src/runtime/breaker/redis-breaker-store.ts';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';
import { freshPrefix, sleep } from './limiter-support.ts';

/** The Redis store, with the outcomes of every record() call it receives written down. */
class CountingBreakerStore implements BreakerStore {
  readonly records: BreakerOutcomes[] = [];
  admits = 0;
  constructor(private readonly inner: RedisBreakerStore) {}
  admit(provider: string, policy: BreakerPolicy) {
    this.admits += 1;
    return this.inner.admit(provider, policy);
  }
  record(provider: string, outcomes: BreakerOutcomes, policy: BreakerPolicy) {
    this.records.push(outcomes);
    return this.inner.record(provider, outcomes, policy);
  }
  inspect(provider: string, policy: BreakerPolicy) {
    return this.inner.inspect(provider, policy);
  }
}

describe('CircuitBreaker shared through Redis (real redis-server)', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const breakers: CircuitBreaker[] = [];

  /** A breaker on its own connection, as another process would have, with its store counted. */
  const connect = (keyPrefix: string, options: Partial<CircuitBreakerOptions> = {}): { breaker: CircuitBreaker; store: CountingBreakerStore } => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    clients.push(redis);
    const store = new CountingBreakerStore(new RedisBreakerStore({ redis, keyPrefix }));
    const breaker = new CircuitBreaker({ store, provider: 'openai', minimumRequests: 20, failureRateThreshold: 0.5, bucketMs: 1000, windowMs: 10_000, openMs: 5000, ...options });
    breakers.push(breaker);
    return { breaker, store };
  };

  /** For the state machine: no cache, quick re-checks, each awaited record() its own flush. */
  const open = async (keyPrefix: string, options: Partial<CircuitBreakerOptions> = {}): Promise<CircuitBreaker> =>
    connect(keyPrefix, { minimumRequests: 4, openMs: 300, cacheMs: 0, pollMs: 30, jitterMs: 5, flushMs: 0, failureFlushMs: 0, ...options }).breaker;

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

  // Outcomes counted in the process and flushed in one call.

  it('the outcomes of 50 concurrent calls are one store call; a failure makes it go sooner', async () => {
    const { breaker, store } = connect(freshPrefix(), { flushMs: 150, failureFlushMs: 20, minimumRequests: 1000 });
    const started = performance.now();
    const states = await Promise.all(Array.from({ length: 50 }, () => breaker.record(true)));
    const waited = performance.now() - started;
    assert.deepEqual(store.records, [{ successes: 50, failures: 0 }]);
    assert.ok(states.every((s) => s === 'closed'));
    assert.ok(waited >= 140 && waited < 400, `successes waited for flushMs: ${Math.round(waited)} ms`);

    const again = performance.now();
    const mixed = [breaker.record(true), breaker.record(false), breaker.record(true)];
    await Promise.all(mixed);
    assert.ok(performance.now() - again < 120, `a failure flushes within failureFlushMs: ${Math.round(performance.now() - again)} ms`);
    assert.deepEqual(store.records[1], { successes: 2, failures: 1 });
    const status = await breaker.state();
    assert.equal(status.requests, 53);
    assert.equal(status.failures, 1);
  });

  it('under failures from two processes it opens within a few failure flushes, and both then wait', async (t) => {
    const prefix = freshPrefix();
    const a = connect(prefix, { cacheMs: 200 });
    const b = connect(prefix, { cacheMs: 200 });
    // Half the calls fail from the start, 100 outcomes/s per process: 20 calls are in the window
    // after ~100 ms; the failures reach Redis within failureFlushMs (50) of happening.
    const started = performance.now();
    let openedAt = 0;
    for (let i = 0; i < 60 && openedAt === 0; i += 1) {
      for (const { breaker } of [a, b]) {
        void breaker.record(i % 2 === 0).then((state) => {
          if (state === 'open' && openedAt === 0) openedAt = performance.now();
        });
      }
      await sleep(10);
    }
    await sleep(80);
    assert.ok(openedAt > 0, 'it opened');
    const tookMs = openedAt - started;
    assert.ok(tookMs < 400, `opened ${Math.round(tookMs)} ms after the first failure`);
    assert.equal((await a.breaker.state()).state, 'open');
    const calls = a.store.records.length + b.store.records.length;
    t.diagnostic(`opened after ${Math.round(tookMs)} ms, ${calls} store calls for the outcomes of both processes`);
    assert.ok(calls <= 16, `${calls} store calls carried the outcomes`);

    // Whoever flushed last learned it from the reply; the other trusts its 'closed' for cacheMs.
    await sleep(200);
    for (const { breaker } of [a, b]) {
      const controller = new AbortController();
      const admitting = breaker.admit(controller.signal);
      const outcome = await Promise.race([admitting.then(() => 'passed'), sleep(100).then(() => 'waiting')]);
      controller.abort(new Error('test over'));
      await admitting.catch(() => undefined);
      assert.equal(outcome, 'waiting');
    }
  });

  it('close() flushes the outcomes it still counts', async () => {
    const prefix = freshPrefix();
    const { breaker, store } = connect(prefix, { flushMs: 60_000, minimumRequests: 1000 });
    const recorded = Array.from({ length: 7 }, () => breaker.record(true));
    await sleep(30);
    assert.equal(store.records.length, 0, 'still counted in the process');
    await Promise.all([breaker.close(), breaker.close()]);
    assert.deepEqual(await Promise.all(recorded), Array(7).fill('closed'));
    assert.equal((await connect(prefix).breaker.state()).requests, 7, 'the fleet sees all seven');
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
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', flushMs: -1 }), /options\.flushMs must be a number of ms >= 0/);
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', failureFlushMs: Number.NaN }), /options\.failureFlushMs/);
    assert.throws(() => new CircuitBreaker({ store, provider: 'p', clock: {} as never }), /options\.clock must be a Clock/);
    redis.disconnect();
  });
});
