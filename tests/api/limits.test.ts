import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/ingest/auth/api-keys.ts';
import { IngestApi, type IngestApiOptions } from '../../src/ingest/http/http-api.ts';
import { TokenBucketRateLimiter } from '../../src/ingest/http/rate-limit.ts';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { BODY_LIMIT_BYTES } from '../../src/jobs/generation-request.ts';
import { jobKey } from '../../src/jobs/job-key.ts';
import { seedRequest, signTestToken, startHarness, TEST_API_KEY, TEST_JWT_SECRET, type Harness } from '../support/harness.ts';
import { assertEnvelope, checkedClient, checkedRequest } from './openapi-check.ts';

let h: Harness;
let api: ReturnType<typeof checkedClient>;
const extra: IngestApi[] = [];
before(async () => {
  h = await startHarness({ supervise: false });
  api = checkedClient(h);
});
after(async () => {
  for (const other of extra) await other.close();
  await h.stop();
});

async function startApi(options: IngestApiOptions): Promise<string> {
  const other = new IngestApi(ingestDeps(h.runtime), h.runtime.log, options);
  extra.push(other);
  return other.listen(0, '127.0.0.1');
}

/** Raw bytes in, the status line and body out (what Node's parser refuses never reaches a handler). */
function sendRaw(url: string, raw: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(raw, 'latin1'));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: body ? JSON.parse(body) : undefined });
    });
  });
}

describe('rate limits', () => {
  it('answers 429 with retry-after and the envelope once a credential\'s bucket is empty, per credential', async () => {
    const url = await startApi({
      auth: { apiKeys: [{ id: 'k1', tenant: 'appTest', key_sha256: hashApiKey(TEST_API_KEY) }], jwt: { secret: TEST_JWT_SECRET } },
      rateLimit: { ratePerSecond: 0.5, burst: 3 },
    });
    const key = { authorization: `Bearer ${TEST_API_KEY}` };
    for (let i = 0; i < 3; i += 1) assert.equal((await checkedRequest(url, 'GET', '/v1/jobs', { headers: key })).status, 200);
    const limited = await checkedRequest(url, 'POST', '/v1/jobs', { headers: key, body: seedRequest(h) });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    // One token at 0.5/s is at most 2 s away (less if the three requests took a while).
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 2, `retry-after ${retryAfter}`);
    assert.match(limited.body.message, /api-key:k1/);
    // Another credential has its own bucket; the open routes have none; failed auth spends nothing.
    const other = { authorization: `Bearer ${await signTestToken('appOther')}` };
    assert.equal((await checkedRequest(url, 'GET', '/v1/jobs', { headers: other })).status, 200);
    assert.equal((await checkedRequest(url, 'GET', '/healthz')).status, 200);
    assert.equal((await checkedRequest(url, 'GET', '/v1/jobs', { headers: { authorization: 'Bearer wdn_nobody' } })).status, 401);
    assert.equal((await checkedRequest(url, 'GET', `/v1/jobs/${'0'.repeat(64)}`, { headers: key })).status, 429);
  });

  it('refills the bucket at the configured rate (token bucket on an injected clock)', () => {
    let now = 0;
    const limiter = new TokenBucketRateLimiter({ ratePerSecond: 2, burst: 2, maxKeys: 2 }, { monotonicMs: () => now });
    assert.deepEqual(limiter.take('a'), { allowed: true });
    assert.deepEqual(limiter.take('a'), { allowed: true });
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 500 });
    now += 250;
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 250 });
    now += 250;
    assert.deepEqual(limiter.take('a'), { allowed: true });
    // Bounded memory: a third key evicts; an evicted key starts with a full bucket.
    limiter.take('b');
    limiter.take('c');
    assert.deepEqual(limiter.take('a'), { allowed: true });
  });
});

describe('limits and the envelope everywhere', () => {
  it('refuses an oversized body with 413 (declared or streamed) and stores nothing', async () => {
    const request = seedRequest(h, { context: 'z'.repeat(BODY_LIMIT_BYTES) });
    const response = await api.post(request);
    assert.equal(response.status, 413);
    assert.equal(response.body.code, 'payload_too_large');
    assert.equal(await h.runtime.checkpoints.get(jobKey(request)), undefined);
  });

  it('answers unknown routes with 404, wrong methods with 405 and Allow, bad ids with 404, all in the envelope', async () => {
    const unknown = await api.get('/v2/nothing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'not_found');
    const unknownUnauthenticated = await api.get('/', { as: false });
    assert.equal(unknownUnauthenticated.status, 404);
    const put = await api.send('PUT', '/v1/jobs', { body: {} });
    assert.equal(put.status, 405);
    assert.equal(put.body.code, 'method_not_allowed');
    assert.equal(put.headers['allow'], 'POST, GET');
    const patch = await api.send('PATCH', `/v1/jobs/${'0'.repeat(64)}`);
    assert.equal(patch.status, 405);
    assert.equal(patch.headers['allow'], 'GET, DELETE');
    const postResult = await api.send('POST', `/v1/jobs/${'0'.repeat(64)}/result`, { body: {} });
    assert.equal(postResult.status, 405);
    const badId = await api.get('/v1/jobs/NOT-AN-ID');
    assert.equal(badId.status, 404);
    assert.equal(badId.body.code, 'not_found');
    assert.equal(typeof badId.headers['x-trace-id'], 'string');
    const traced = await api.get('/v1/jobs/NOT-AN-ID', { headers: { 'x-trace-id': 'trace-123' } });
    assert.equal(traced.body.trace_id, 'trace-123');
  });

  it('answers what Node cannot parse with the envelope too', async () => {
    for (const raw of ['GARBAGE\r\n\r\n', 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`]) {
      const response = await sendRaw(h.apiUrl, raw);
      assert.ok(response.status === 400 || response.status === 431, `${raw.slice(0, 30)} → ${response.status}`);
      assertEnvelope(response.body);
      assert.match(response.body.code, /^(bad_request|request_header_fields_too_large)$/);
    }
  });
});

describe('without authentication (allowAnonymous, local demo only)', () => {
  it('takes the tenant from the body on submit and from base_id on list', async () => {
    const url = await startApi({ allowAnonymous: true, rateLimit: false });
    const request = seedRequest(h, { base_id: 'appDemo' });
    const submitted = await checkedRequest(url, 'POST', '/v1/jobs', { body: request });
    assert.equal(submitted.status, 202);
    assert.equal((await checkedRequest(url, 'GET', `/v1/jobs/${submitted.body.id}`)).status, 200);
    const listed = await checkedRequest(url, 'GET', '/v1/jobs?base_id=appDemo');
    assert.deepEqual(listed.body.jobs.map((j: { id: string }) => j.id), [submitted.body.id]);
    const noTenant = await checkedRequest(url, 'GET', '/v1/jobs');
    assert.equal(noTenant.status, 400);
    assert.match(noTenant.body.message, /base_id is required/);
  });
});
