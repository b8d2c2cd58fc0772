import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';
import { freshPrefix, openLimiter, sleep, type LimiterHandle } from './limiter-support.ts';

const ROOMY = { limits: [{ provider: 'p', model: 'm', rpm: 600_000, tpm: 1e9 }], tenantShare: 1 };
const request = (priority: 'interactive' | 'bulk' = 'interactive', signal?: AbortSignal, estimatedTokens = 100) =>
  ({ provider: 'p', model: 'm', tenant: 't', priority, estimatedTokens, signal });

describe('LlmLimiter batching of store calls (real redis-server)', () => {
  let server: RedisServer;
  let admin: Redis;
  const handles: LimiterHandle[] = [];
  const open = async (prefix: string, options: Parameters<typeof openLimiter>[2], storeOptions?: Parameters<typeof openLimiter>[3]): Promise<LimiterHandle> => {
    const handle = await openLimiter(server, prefix, options, storeOptions);
    handles.push(handle);
    return handle;
  };
  /** Commands redis-server ran (scripts' inner commands included), INFO itself left out. */
  const commands = async (): Promise<number> => {
    const info = await admin.info('commandstats');
    let total = 0;
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (match[1] !== 'info') total += Number(match[2]);
    return total;
  };

  before(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { maxRetriesPerRequest: 3 });
    admin.on('error', () => undefined);
  });

  after(async () => {
    await Promise.all(handles.map((h) => h.close()));
    admin?.disconnect();
    await server?.stop();
  });

  it('N concurrent acquires cost one store call of four Redis commands, which also carries the reconciles', async () => {
    // 600 000 tpm = 10 tokens/ms, a 5 s burst of 50 000 tokens; requests are no constraint.
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 600_000, tpm: 600_000 }], tenantShare: 1 });
    const { limiter, counted } = handle;
    // The first call loads the script (EVAL's fallback) and makes the first sweep of idle tenants.
    await limiter.acquire(request());
    const before = await commands();
    const first = await Promise.all(Array.from({ length: 40 }, () => limiter.acquire(request())));
    assert.deepEqual(counted.admitCalls, [1, 40], 'one store call for the 40 attempts');
    assert.equal(await commands(), before + 4, 'EVALSHA, TIME, HMGET, HSET');

    const t0 = performance.now();
    const tokensBefore = (await limiter.snapshot()).buckets[0]?.tokensAvailable ?? NaN;
    // 40 reconciles of 60 unused tokens each wait for the next admission call, and ride with it.
    const landed = first.map((admission) => admission.reconcile(40));
    await Promise.all(Array.from({ length: 40 }, () => limiter.acquire(request())));
    await Promise.all(landed);
    assert.deepEqual(counted.admitCalls, [1, 40, 40]);
    assert.equal(counted.adjustCalls, 0, 'no call of their own');
    assert.equal(counted.adjustmentsCarried, 1, 'summed into one adjustment');
    const tokensAfter = (await limiter.snapshot()).buckets[0]?.tokensAvailable ?? NaN;
    const refill = (performance.now() - t0) * 10;
    const expected = Math.min(50_000, tokensBefore + 40 * 60) - 40 * 100;
    assert.ok(tokensAfter >= expected && tokensAfter <= expected + refill + 1, `tokens ${tokensBefore} -> ${tokensAfter}, expected ${expected} + refill up to ${Math.round(refill)}`);
  });

  it('reconciles still summed when the limiter closes are flushed, not lost', async () => {
    const prefix = freshPrefix();
    // 6000 tpm = 100 tokens/s: the 900 returned tokens stand far above a second of refill.
    const options = { limits: [{ provider: 'p', model: 'm', rpm: 600_000, tpm: 6000 }], tenantShare: 1, adjustFlushMs: 60_000, burstMs: 60_000 };
    const a = await open(prefix, options);
    const b = await open(prefix, options);
    const admission = await a.limiter.acquire(request('interactive', undefined, 1000));
    const tokens = async (): Promise<number> => (await b.limiter.snapshot()).buckets[0]?.tokensAvailable ?? NaN;
    const charged = await tokens();
    const landed = admission.reconcile(100);
    await sleep(50);
    assert.ok((await tokens()) < charged + 100, 'held in the ledger: adjustFlushMs is a minute');
    await Promise.all([a.limiter.close(), a.limiter.close()]);
    await landed;
    const after = await tokens();
    assert.ok(after >= charged + 900 && after < charged + 1000, `900 tokens returned on close: ${charged} -> ${after}`);
    assert.equal(a.counted.adjustCalls, 1, 'one flush on close');
  });

  it('an aborted waiter leaves the batch before it is sent, and costs the bucket nothing', async () => {
    const handle = await open(freshPrefix(), { ...ROOMY, batchWindowMs: 60 });
    const { limiter, counted } = handle;
    const controller = new AbortController();
    const reason = new Error('lease lost');
    const staying = [limiter.acquire(request()), limiter.acquire(request())];
    const leaving = limiter.acquire(request('interactive', controller.signal));
    await sleep(10);
    const abortedAt = performance.now();
    controller.abort(reason);
    await assert.rejects(leaving, (error) => error === reason);
    assert.ok(performance.now() - abortedAt < 20, 'rejected at once, not at the tick');
    await Promise.all(staying);
    assert.deepEqual(counted.admitCalls, [2], 'the call carried the two that stayed');
    assert.equal((await limiter.snapshot()).buckets[0]?.admittedInteractive, 2);
  });

  it('an admission that arrives after its caller left is handed back', async () => {
    // 60 rpm = 1/s, a burst of 10 s: capacity 10 requests, and the test's 150 ms refill 0.15.
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 60, tpm: 1e9 }], tenantShare: 1, burstMs: 10_000 });
    const { limiter, counted } = handle;
    counted.replyDelayMs = 80;
    const controller = new AbortController();
    const reason = new Error('gave up');
    const leaving = limiter.acquire(request('interactive', controller.signal));
    await sleep(30); // the call is out: the script has run, its reply is held back
    controller.abort(reason);
    await assert.rejects(leaving, (error) => error === reason);
    counted.replyDelayMs = 0;
    await sleep(100);
    const level = (await limiter.snapshot()).buckets[0]?.requestsAvailable ?? NaN;
    assert.ok(level > 9.95, `the admission came back to the bucket: ${level} of 10 requests`);
  });

  it('inside one call interactive goes before bulk that was queued earlier', async () => {
    // 60 rpm = 1/s, a burst of 2 s: capacity 2, reserve 1; bulk books at most 1 s ahead.
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 60, tpm: 1e9 }], tenantShare: 1, burstMs: 2000, bulkReserveFraction: 0.5, batchWindowMs: 30 });
    const { limiter, counted } = handle;
    const bulk = [limiter.acquire(request('bulk')).catch((e: unknown) => e), limiter.acquire(request('bulk')).catch((e: unknown) => e)];
    const interactive = await limiter.acquire(request('interactive'));
    assert.equal(counted.admitCalls[0], 3, 'the three shared a call');
    // Had the bulk attempts gone first they would have left the bucket empty for a second.
    assert.ok(interactive.waitedMs < 100, `interactive waited ${Math.round(interactive.waitedMs)} ms`);
    await limiter.close();
    await Promise.all(bulk);
  });

  it('tenant shares live in the bucket hash; idle ones are swept, busy ones stay', async () => {
    const prefix = freshPrefix();
    // 600 rpm = 10/s, a 200 ms burst: a share of 0.5 holds one request and is full again 200 ms later.
    const handle = await open(prefix, { limits: [{ provider: 'p', model: 'm', rpm: 600, tpm: 1e9 }], tenantShare: 0.5, burstMs: 200 }, { tenantSweepMs: 50 });
    const { limiter } = handle;
    const acquire = (tenant: string) => limiter.acquire({ ...request(), tenant });
    const fields = async (): Promise<string[]> => (await admin.hkeys(`${prefix}lim:{p|m}:b`)).filter((f) => f.startsWith('t:')).sort();
    await Promise.all(['a', 'b', 'c'].map(acquire));
    assert.deepEqual(await fields(), ['t:a', 't:b', 't:c'], 'no key per tenant: fields of the one hash');
    await sleep(300); // a, b and c are full again
    // d books ~100 ms into its share's debt, so it is not idle when the sweep looks.
    await Promise.all([acquire('d'), acquire('d')]);
    await sleep(60);
    await acquire('e');
    assert.deepEqual(await fields(), ['t:d', 't:e'], 'the idle shares were swept');
  });
});
