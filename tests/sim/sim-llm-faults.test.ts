import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLatencySampler, startSimLlm, type SimLlm } from '../../src/stack/sim-llm/index.ts';
import { promptDigest } from '../../src/stack/sim-tags.ts';
import { call, chatBody, eventually } from './sim-client.ts';

const NO_FAULTS = { rate429: 0, rate5xx: 0, slowBodyRate: 0, timeoutRate: 0, forceStatus: null, refusalRate: 0 };

let sim: SimLlm;
before(async () => {
  sim = await startSimLlm({ timeScale: 0.001, timeoutRate: 0, seed: 3 });
});
after(() => sim.close());

const chatUrl = () => `${sim.url}/v1/chat/completions`;

test('latency sampler: lognormal with the configured median and P95, scaled by timeScale', () => {
  const quantiles = (timeScale: number) => {
    const sample = createLatencySampler({ p50Ms: 4000, p95Ms: 20000, timeScale, seed: 42 });
    const xs = Array.from({ length: 200 }, sample).sort((a, b) => a - b);
    return { p50: xs[100] ?? 0, p95: xs[190] ?? 0 };
  };
  const full = quantiles(1);
  assert.ok(full.p50 > 3000 && full.p50 < 5300, `median ${full.p50}`);
  assert.ok(full.p95 > 12000 && full.p95 < 32000, `p95 ${full.p95}`);
  const scaled = quantiles(0.001);
  assert.ok(Math.abs(scaled.p50 - full.p50 / 1000) < 1e-9);
  // Same seed, same sequence: runs are reproducible.
  const a = createLatencySampler({ p50Ms: 1, p95Ms: 5, timeScale: 1, seed: 9 });
  const b = createLatencySampler({ p50Ms: 1, p95Ms: 5, timeScale: 1, seed: 9 });
  assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
});

test('429 carries retry-after (scaled) and the rate_limit_exceeded error', async () => {
  sim.setFaults({ ...NO_FAULTS, rate429: 1, retryAfterS: 2 });
  const res = await call(chatUrl(), 'POST', chatBody('limit me'));
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '0.002');
  assert.equal(res.headers.get('retry-after-ms'), '2');
  assert.equal(res.body.error.code, 'rate_limit_exceeded');
  assert.equal(sim.stats().injected['429'], 1);
});

test('forced status storm via HTTP, then random 5xx', async () => {
  const set = await call(`${sim.url}/__sim/faults`, 'POST', { ...NO_FAULTS, forceStatus: 503 });
  assert.equal(set.status, 200);
  assert.equal(set.body.forceStatus, 503);
  for (let i = 0; i < 3; i++) {
    const res = await call(chatUrl(), 'POST', chatBody(`storm ${i}`));
    assert.equal(res.status, 503);
    assert.equal(res.body.error.type, 'server_error');
  }
  const bad = await call(`${sim.url}/__sim/faults`, 'POST', { rate5xx: 'lots' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /faults\.rate5xx/);
  sim.setFaults({ forceStatus: null, rate5xx: 1 });
  const res = await call(chatUrl(), 'POST', chatBody('server error'));
  assert.ok([500, 502, 503].includes(res.status), String(res.status));
});

test('timeout: the call hangs then the socket closes with no answer', async () => {
  sim.setFaults({ ...NO_FAULTS, timeoutRate: 1, hangMs: 30000 }); // 30 ms at this timeScale
  sim.reset();
  const hanging = call(chatUrl(), 'POST', chatBody('hang up on me'));
  // The cheap count and the snapshot agree while the call hangs, and after.
  await eventually(() => sim.inFlightCount() === 1);
  assert.equal(sim.stats().inFlight, 1);
  await assert.rejects(hanging);
  await eventually(() => sim.inFlightCount() === 0);
  assert.equal(sim.stats().inFlight, 0);
  const s = sim.stats();
  assert.equal(s.byStatus.timeout, 1);
  assert.equal(s.completed, 0);
  assert.equal(s.distinctPrompts, 1);
});

test('refusal: 200 with message.refusal and null content', async () => {
  sim.setFaults({ ...NO_FAULTS, refusalRate: 1 });
  sim.reset();
  const res = await call(chatUrl(), 'POST', chatBody('refuse me'));
  assert.equal(res.status, 200);
  assert.equal(res.body.choices[0].message.content, null);
  assert.equal(typeof res.body.choices[0].message.refusal, 'string');
  assert.equal(sim.stats().completed, 0);
  assert.equal(sim.stats().refusals, 1);
});

test('slow body: headers first, body dribbled over slowBodyMs', async () => {
  sim.setFaults({ ...NO_FAULTS, slowBodyRate: 1, slowBodyMs: 80000 }); // 80 ms at this timeScale
  const res = await fetch(chatUrl(), { method: 'POST', body: JSON.stringify(chatBody('slowly')), headers: { 'content-type': 'application/json' } });
  const headersAt = Date.now();
  assert.equal(res.status, 200);
  const json = (await res.json()) as any;
  // Timers never fire early, so this lower bound cannot flake.
  assert.ok(Date.now() - headersAt >= 40, `body took ${Date.now() - headersAt} ms`);
  assert.equal(json.object, 'chat.completion');
});

test('a caller aborting mid-call does not crash the server; inFlight returns to 0', async () => {
  const slow = await startSimLlm({ p50Ms: 10000, p95Ms: 10000, timeoutRate: 0 });
  try {
    const body = chatBody('abort me');
    const ac = new AbortController();
    const pending = fetch(`${slow.url}/v1/chat/completions`, {
      method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: ac.signal,
    });
    await eventually(() => slow.inFlightDigests().has(promptDigest(body.messages)));
    assert.equal(slow.stats().inFlight, 1);
    ac.abort();
    await assert.rejects(pending);
    await eventually(() => slow.stats().inFlight === 0);
    assert.equal(slow.inFlightDigests().size, 0);
    assert.equal(slow.stats().byStatus.aborted, 1);
    const stats = await call(`${slow.url}/__sim/stats`, 'GET');
    assert.equal(stats.status, 200);
  } finally {
    await slow.close();
  }
});

test('close() drops calls in flight and hung calls without leaving timers behind', async () => {
  const hung = await startSimLlm({ timeScale: 1, timeoutRate: 1 });
  const pending = call(`${hung.url}/v1/chat/completions`, 'POST', chatBody('never answered'));
  await eventually(() => hung.stats().inFlight === 1);
  await Promise.all([hung.close(), hung.close()]);
  await assert.rejects(pending);
});
