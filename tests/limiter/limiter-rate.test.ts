import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';
import { freshPrefix, hammer, openLimiter, type LimiterHandle } from './limiter-support.ts';

describe('LlmLimiter rates (real redis-server)', () => {
  let server: RedisServer;
  const handles: LimiterHandle[] = [];

  before(async () => {
    server = await startRedisServer();
  });

  after(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await server?.stop();
  });

  it('two instances on two connections share one bucket and together admit the configured rpm', async (t) => {
    const prefix = freshPrefix();
    // 60 000 rpm = 1000/s; a 100 ms burst keeps the start-up burst small against 2 s of measuring.
    const options = { limits: [{ provider: 'p', model: 'm', rpm: 60_000, tpm: 1e12 }], burstMs: 100, tenantShare: 1 };
    const a = await openLimiter(server, prefix, options);
    const b = await openLimiter(server, prefix, options);
    handles.push(a, b);
    const warmup = performance.now() + 300;
    const end = warmup + 2000;
    const counts = { a: 0, b: 0 };
    await Promise.all([
      hammer(a.limiter, 24, end, {}, (at) => {
        if (at >= warmup && at < end) counts.a += 1;
      }),
      hammer(b.limiter, 24, end, {}, (at) => {
        if (at >= warmup && at < end) counts.b += 1;
      }),
    ]);
    const total = counts.a + counts.b;
    t.diagnostic(`admitted ${counts.a} + ${counts.b} = ${total} in 2 s (configured 2000)`);
    assert.ok(total > 2000 * 0.9 && total < 2000 * 1.1, `admitted ${total} in 2 s, configured 2000`);
    assert.ok(counts.a > 400 && counts.b > 400, `both instances are admitted: ${counts.a} / ${counts.b}`);
    const snapshot = await a.limiter.snapshot();
    assert.equal(snapshot.buckets[0]?.rpm, 60_000);
    assert.ok((snapshot.buckets[0]?.admittedInteractive ?? 0) >= total);
    // Nearly every admission took one attempt: the reply books the start instead of refusing;
    // and attempts share store calls, which also carry the reconciles.
    const local = snapshot.local;
    assert.ok(local.attempts <= local.admitted * 1.05 + 5, `attempts ${local.attempts} for ${local.admitted} admissions`);
    assert.ok(local.storeCalls <= local.attempts, `store calls ${local.storeCalls} for ${local.attempts} attempts`);
  });
});

describe('LlmLimiter tokens (real redis-server)', () => {
  let server: RedisServer;
  const handles: LimiterHandle[] = [];

  before(async () => {
    server = await startRedisServer();
  });

  after(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await server?.stop();
  });

  it('charges the estimate, returns what reconcile says was unused, and makes a large estimate wait for the refill', async () => {
    // 600 000 tpm = 10 tokens/ms; a 6 s burst holds 60 000 tokens. Requests are no constraint.
    const handle = await openLimiter(server, freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 1e9, tpm: 600_000 }], burstMs: 6000, tenantShare: 1 });
    handles.push(handle);
    const { limiter } = handle;
    const tokens = async (): Promise<number> => (await limiter.snapshot()).buckets[0]?.tokensAvailable ?? NaN;
    assert.equal(await tokens(), 60_000);

    const first = await limiter.acquire({ provider: 'p', model: 'm', tenant: 'a', priority: 'interactive', estimatedTokens: 50_000 });
    assert.ok(first.waitedMs < 100, `a full bucket admits at once (waited ${first.waitedMs} ms)`);
    const charged = await tokens();
    assert.ok(charged >= 10_000 && charged < 11_000, `50 000 estimated tokens charged: ${charged} left`);

    // The difference waits in this process' ledger; a snapshot flushes it before it reads.
    const landed = first.reconcile(20_000);
    const reconciled = await tokens();
    await landed;
    assert.ok(reconciled >= 40_000 && reconciled < 41_500, `30 000 unused tokens returned: ${reconciled} available`);
    await first.reconcile(0); // only the first reconcile counts
    assert.ok((await tokens()) < 42_000);

    // ~40 000 available: 45 000 must wait ~500 ms for the refill at 10 tokens/ms.
    const large = await limiter.acquire({ provider: 'p', model: 'm', tenant: 'a', priority: 'interactive', estimatedTokens: 45_000 });
    assert.ok(large.waitedMs > 300 && large.waitedMs < 900, `large estimate waited ${large.waitedMs} ms, expected ~500`);
    await large.reconcile(45_000);
  });

  it('keeps admitting after Redis restarts empty (scripts are loaded again, the bucket starts full)', async () => {
    const handle = await openLimiter(server, freshPrefix(), { limits: [{ provider: 'p', model: 'm', rpm: 60_000, tpm: 1e9 }], tenantShare: 0.5 });
    handles.push(handle);
    const request = { provider: 'p', model: 'm', tenant: 'a', priority: 'bulk' as const, estimatedTokens: 10 };
    await (await handle.limiter.acquire(request)).reconcile(5);
    await server.restart({ wipe: true });
    const admission = await handle.limiter.acquire(request);
    assert.ok(admission.waitedMs < 1000);
    await admission.reconcile(20);
  });

  it('tokens per minute bound the admission rate, and reconciled usage raises it', async (t) => {
    // 600 000 tpm = 10 000 tokens/s; estimates of 1000 allow ~10 admissions/s.
    const options = { limits: [{ provider: 'p', model: 'm', rpm: 1e9, tpm: 600_000 }], burstMs: 100, tenantShare: 1 };
    const measure = async (actual: number): Promise<number> => {
      const handle = await openLimiter(server, freshPrefix(), options);
      handles.push(handle);
      const from = performance.now() + 250;
      const to = from + 1200;
      let admitted = 0;
      await hammer(handle.limiter, 8, to, { tokens: () => 1000, actual: () => actual }, (at) => {
        if (at >= from && at < to) admitted += 1;
      });
      return admitted;
    };
    const charged = await measure(1000);
    assert.ok(charged >= 8 && charged <= 16, `~12 admissions of 1000 tokens in 1.2 s at 10 000 tokens/s, got ${charged}`);
    const refunded = await measure(100);
    t.diagnostic(`1000-token admissions in 1.2 s: ${charged} charged in full, ${refunded} reconciled to 100`);
    assert.ok(refunded >= charged * 4, `with 900 of every 1000 returned, the rate rises: ${refunded} vs ${charged}`);
  });
});
