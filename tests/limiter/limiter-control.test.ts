import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LimiterClosedError } from '../../src/runtime/limiter/limiter-errors.ts';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';
import { freshPrefix, hammer, openLimiter, sleep, type LimiterHandle } from './limiter-support.ts';

describe('LlmLimiter pause, priority, tenant cap, abort (real redis-server)', () => {
  let server: RedisServer;
  const handles: LimiterHandle[] = [];
  const open = async (prefix: string, options: Parameters<typeof openLimiter>[2]): Promise<LimiterHandle> => {
    const handle = await openLimiter(server, prefix, options);
    handles.push(handle);
    return handle;
  };

  before(async () => {
    server = await startRedisServer();
  });

  after(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await server?.stop();
  });

  it('pause(…, 500 ms) stops admissions in every instance, bookings included, then they resume', async (t) => {
    const prefix = freshPrefix();
    const options = { limits: [{ provider: 'p', model: 'm', rpm: 60_000, tpm: 1e12 }], burstMs: 100, tenantShare: 1 };
    const a = await open(prefix, options);
    const b = await open(prefix, options);
    const admittedAt: number[] = [];
    const end = performance.now() + 1500;
    let pausedAt = 0;
    let inForce = 0;
    const pausing = (async () => {
      await sleep(400);
      pausedAt = performance.now();
      inForce = await a.limiter.pause('p', 'm', 500);
      const snapshot = await b.limiter.snapshot();
      assert.ok((snapshot.buckets[0]?.pausedMs ?? 0) > 300, 'the pause is visible in the store');
    })();
    // 32 acquirers each: at 1000/s they hold ~30 ms of bookings that the pause must cancel.
    await Promise.all([
      hammer(a.limiter, 32, end, {}, (at) => admittedAt.push(at)),
      hammer(b.limiter, 32, end, {}, (at) => admittedAt.push(at)),
      pausing,
    ]);
    t.diagnostic(`last admission before +470 ms: +${Math.round(Math.max(...admittedAt.filter((x) => x < pausedAt + 470)) - pausedAt)} ms; first after: +${Math.round(Math.min(...admittedAt.filter((x) => x > pausedAt + 30)) - pausedAt)} ms`);
    assert.equal(inForce, 500);
    const before = admittedAt.filter((t) => t < pausedAt).length;
    const during = admittedAt.filter((t) => t > pausedAt + 30 && t < pausedAt + 470);
    const resumed = admittedAt.filter((t) => t >= pausedAt + 470 && t < pausedAt + 1000);
    assert.ok(before > 200, `admitted before the pause: ${before}`);
    assert.equal(during.length, 0, `admissions during the pause at +${during.map((t) => Math.round(t - pausedAt)).join(', +')} ms`);
    assert.ok(resumed.length > 150, `admissions resume after the pause: ${resumed.length}`);
  });

  it('interactive is admitted promptly while bulk saturates the bucket and waits', async (t) => {
    // 6000 rpm = 100/s; capacity 100 requests, reserve 20%: bulk books at most 200 ms ahead.
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 6000, tpm: 1e12 }], burstMs: 1000, bulkReserveFraction: 0.2, tenantShare: 1 });
    const { limiter } = handle;
    const acquire = (priority: 'interactive' | 'bulk') => limiter.acquire({ provider: 'p', model: 'm', tenant: 't', priority, estimatedTokens: 1 });
    let bulkAdmitted = 0;
    const saturation = hammer(limiter, 40, performance.now() + 2200, { priority: 'bulk' }, () => {
      bulkAdmitted += 1;
    });
    await sleep(1000); // the initial burst is gone; 40 bulk acquirers want 4x the rate
    const level = (await limiter.snapshot()).buckets[0]?.requestsAvailable ?? NaN;
    assert.ok(level > -0.5, `bulk bookings never take the bucket below zero (level ${level})`);
    const bulkBefore = bulkAdmitted;
    const interactiveWaits: number[] = [];
    const bulkWaits: number[] = [];
    const probes: Promise<void>[] = [];
    for (let i = 0; i < 8; i += 1) {
      probes.push(acquire('bulk').then((a) => void bulkWaits.push(a.waitedMs)));
      probes.push(acquire('interactive').then((a) => void interactiveWaits.push(a.waitedMs)));
      await sleep(100);
    }
    await Promise.all([...probes, saturation]);
    const worstInteractive = Math.max(...interactiveWaits);
    const medianBulk = [...bulkWaits].sort((x, y) => x - y)[4] ?? 0;
    t.diagnostic(`interactive waits ${interactiveWaits.map(Math.round).join(' ')} ms; bulk waits ${bulkWaits.map(Math.round).join(' ')} ms; bulk admitted meanwhile ${bulkAdmitted - bulkBefore}`);
    assert.ok(worstInteractive < 150, `interactive waits ${interactiveWaits.map(Math.round).join(', ')} ms`);
    assert.ok(medianBulk > 150 && medianBulk > worstInteractive * 2, `bulk waits ${bulkWaits.map(Math.round).join(', ')} ms`);
    assert.ok(Math.max(...bulkWaits) < 2000, 'bulk waiters are served in turn: none starves behind newer ones');
    assert.ok(bulkAdmitted - bulkBefore > 60, `bulk keeps using what interactive leaves: ${bulkAdmitted - bulkBefore} in ~1.2 s`);
  });

  it('one tenant cannot take more than its share while another tenant is still admitted', async (t) => {
    // 6000 rpm = 100/s; a share of 0.25 is 25/s per tenant.
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 6000, tpm: 1e12 }], burstMs: 200, tenantShare: 0.25 });
    const from = performance.now() + 300;
    const to = from + 1600;
    const counts = { big: 0, small: 0 };
    const count = (tenant: 'big' | 'small') => (at: number) => {
      if (at >= from && at < to) counts[tenant] += 1;
    };
    await Promise.all([
      hammer(handle.limiter, 30, to, { tenant: 'big' }, count('big')),
      hammer(handle.limiter, 3, to, { tenant: 'small' }, count('small')),
    ]);
    t.diagnostic(`busy tenant ${counts.big}, other tenant ${counts.small} in 1.6 s`);
    // 1.6 s at 25/s = 40, plus the tenant's burst of 5.
    assert.ok(counts.big >= 30 && counts.big <= 52, `the busy tenant got ${counts.big}, its share allows ~40`);
    assert.ok(counts.small >= 25, `the other tenant is still admitted: ${counts.small}`);
  });

  it('acquire rejects promptly with the signal reason: while paused, while booked, and when already aborted', async () => {
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 600, tpm: 1e12 }], burstMs: 100, tenantShare: 1 });
    const { limiter } = handle;
    const request = (signal?: AbortSignal) => ({ provider: 'p', model: 'm', tenant: 't', priority: 'interactive' as const, estimatedTokens: 1, signal });

    const reason = new Error('owner lost the lease');
    await assert.rejects(limiter.acquire(request(AbortSignal.abort(reason))), (error) => error === reason);

    // Booked: 600 rpm = 10/s with a capacity of 1; the fourth acquire is booked ~300 ms out.
    const ahead = Array.from({ length: 3 }, () => limiter.acquire(request()).catch((error: unknown) => error));
    await sleep(20);
    const levelBefore = (await limiter.snapshot()).buckets[0]?.requestsAvailable ?? NaN;
    const booked = new AbortController();
    const waiting = limiter.acquire(request(booked.signal));
    await sleep(50);
    const bookedNow = (await limiter.snapshot()).local.booked;
    assert.ok(bookedNow >= 2, `the later acquires are booked, not polling: ${bookedNow}`);
    const abortedAt = performance.now();
    booked.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    assert.ok(performance.now() - abortedAt < 50, 'rejected at once');
    await sleep(30);
    const levelAfter = (await limiter.snapshot()).buckets[0]?.requestsAvailable ?? NaN;
    // The booking was handed back (+1), minus nothing else: 100 ms of refill adds ~1 too.
    assert.ok(levelAfter - levelBefore > 0.8, `booking handed back: ${levelBefore} -> ${levelAfter}`);

    // Paused: the acquire sleeps on the pause and leaves as soon as the signal aborts.
    await limiter.pause('p', 'm', 5000);
    const paused = new AbortController();
    const pending = limiter.acquire(request(paused.signal));
    setTimeout(() => paused.abort(reason), 50);
    const started = performance.now();
    await assert.rejects(pending, (error) => error === reason);
    assert.ok(performance.now() - started < 150, 'rejected promptly while paused');
    // The pause cancelled the earlier bookings; they wait it out and end with the limiter.
    await handle.limiter.close();
    for (const outcome of await Promise.all(ahead)) {
      assert.ok(outcome instanceof LimiterClosedError || typeof (outcome as { reconcile?: unknown }).reconcile === 'function', `admitted before the pause, or closed while it held them: ${String(outcome)}`);
    }
  });

  it('close() rejects waiters with LimiterClosedError and is safe to call twice', async () => {
    const handle = await open(freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 600, tpm: 1e12 }], burstMs: 100, tenantShare: 1 });
    await handle.limiter.pause('p', 'm', 5000);
    const pending = handle.limiter.acquire({ provider: 'p', model: 'm', tenant: 't', priority: 'bulk', estimatedTokens: 1 });
    await sleep(20);
    await Promise.all([handle.limiter.close(), handle.limiter.close()]);
    await assert.rejects(pending, LimiterClosedError);
    await assert.rejects(handle.limiter.acquire({ provider: 'p', model: 'm', tenant: 't', priority: 'bulk', estimatedTokens: 1 }), LimiterClosedError);
  });
});
