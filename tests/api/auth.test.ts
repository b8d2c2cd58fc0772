import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { hashApiKey } from '../../src/ingest/auth/api-keys.ts';
import { authFromEnv } from '../../src/ingest/auth/auth-from-env.ts';
import { IngestApi, type IngestApiOptions } from '../../src/ingest/http/http-api.ts';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { jobKey } from '../../src/jobs/job-key.ts';
import { seedRequest, signTestToken, startHarness, TEST_API_KEY, TEST_TENANT, type Harness } from '../support/harness.ts';
import { checkedClient, checkedRequest } from './openapi-check.ts';

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

/** Another API on the harness' runtime with other options; closed after the suite. */
async function startApi(options: IngestApiOptions): Promise<string> {
  const other = new IngestApi(ingestDeps(h.runtime), h.runtime.log, options);
  extra.push(other);
  return other.listen(0, '127.0.0.1');
}

function assertUnauthorized(response: { status: number; body: any; headers: Record<string, unknown> }, message: RegExp, bearerError?: string) {
  assert.equal(response.status, 401, JSON.stringify(response.body));
  assert.equal(response.body.code, 'unauthorized');
  assert.match(response.body.message, message);
  assert.equal(typeof response.body.trace_id, 'string');
  const challenge = String(response.headers['www-authenticate']);
  assert.match(challenge, /^Bearer realm="warden"/);
  if (bearerError) assert.match(challenge, new RegExp(`error="${bearerError}"`));
  else assert.doesNotMatch(challenge, /error=/);
}

describe('authentication', () => {
  it('accepts an API key and a JWT, each for its own tenant', async () => {
    const viaKey = seedRequest(h);
    const byKey = await api.post(viaKey, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    assert.equal(byKey.status, 202);
    assert.equal((await api.get(`/v1/jobs/${byKey.body.id}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).status, 200);

    const viaJwt = seedRequest(h, { base_id: 'appJwt' });
    const token = await signTestToken('appJwt', { sub: 'svc-reports' });
    const byJwt = await api.post(viaJwt, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(byJwt.status, 202);
    const view = await api.get(`/v1/jobs/${byJwt.body.id}`, { headers: { authorization: `bearer ${token}` } });
    assert.equal(view.status, 200);
    assert.equal(view.body.base_id, 'appJwt');
    // The audit line names the credential that cancelled it.
    assert.equal((await api.del(`/v1/jobs/${byJwt.body.id}`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    const job = await h.runtime.checkpoints.get(byJwt.body.id);
    assert.match(job?.audit.at(-1)?.reason ?? '', /jwt:svc-reports/);
  });

  it('answers 401 with a Bearer challenge for missing, malformed, unknown and unverifiable credentials', async () => {
    const path = `/v1/jobs/${'a'.repeat(64)}`;
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT = (jwt) => jwt) =>
      build(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' })).sign(new TextEncoder().encode('harness-jwt-secret-0123456789abcdef-0123456789'));
    assertUnauthorized(await api.get(path, { as: false }), /missing credential/);
    assertUnauthorized(await api.get(path, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), /must be Bearer/, 'invalid_request');
    assertUnauthorized(await api.get(path, { headers: { authorization: 'Bearer' } }), /must be Bearer/, 'invalid_request');
    assertUnauthorized(await api.get(path, { headers: { authorization: 'Bearer a b' } }), /must be Bearer/, 'invalid_request');
    assertUnauthorized(await api.get(path, { headers: { authorization: 'Bearer wdn_not-a-key-we-issued' } }), /unknown API key/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${TEST_API_KEY}x` } }), /unknown API key/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: 'Bearer a"b' } }), /malformed/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await signTestToken(TEST_TENANT, { secret: 'another-secret-another-secret-another-secret' })}` } }), /not valid/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await signTestToken(TEST_TENANT, { expiresIn: now - 3600 })}` } }), /expired/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await sign({ tenant: TEST_TENANT }, (j) => j.setSubject('svc'))}` } }), /exp claim/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await sign({}, (j) => j.setSubject('svc').setExpirationTime('1h'))}` } }), /tenant claim/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await sign({ tenant: TEST_TENANT }, (j) => j.setExpirationTime('1h'))}` } }), /sub claim/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await sign({ tenant: 'not a base!' }, (j) => j.setSubject('svc').setExpirationTime('1h'))}` } }), /tenant claim/, 'invalid_token');
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${await sign({ tenant: TEST_TENANT }, (j) => j.setSubject('svc').setExpirationTime('1h').setNotBefore('2h'))}` } }), /nbf claim/, 'invalid_token');
    // An unsigned token ("alg": "none") has an empty third segment: not a JWT to us, and no key either.
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ tenant: TEST_TENANT, sub: 's', exp: now + 60 })).toString('base64url')}.`;
    assertUnauthorized(await api.get(path, { headers: { authorization: `Bearer ${unsigned}` } }), /unknown API key/, 'invalid_token');
    // Every route but the open ones, every method.
    assertUnauthorized(await api.get('/v1/jobs', { as: false }), /missing/);
    assertUnauthorized(await api.del(path, { as: false }), /missing/);
    assertUnauthorized(await api.get(`${path}/result`, { as: false }), /missing/);
  });

  it('stores nothing for an unauthenticated submission', async () => {
    const request = seedRequest(h, { context: 'never stored' });
    assertUnauthorized(await api.post(request, { as: false }), /missing/);
    assertUnauthorized(await api.post(request, { headers: { authorization: 'Bearer wdn_wrong' } }), /unknown API key/, 'invalid_token');
    assert.equal(await h.runtime.checkpoints.get(jobKey(request)), undefined);
  });

  it('refuses a body for another base with 403 tenant_mismatch, before anything is stored', async () => {
    const request = seedRequest(h, { base_id: 'appSomeoneElse', context: 'not mine' });
    const byKey = await api.post(request, { as: TEST_TENANT });
    assert.equal(byKey.status, 403);
    assert.equal(byKey.body.code, 'tenant_mismatch');
    const byJwt = await api.post(request, { as: 'appJwt' });
    assert.equal(byJwt.status, 403);
    assert.equal(await h.runtime.checkpoints.get(jobKey(request)), undefined);
    // A list for another base is refused the same way.
    assert.equal((await api.get('/v1/jobs?base_id=appSomeoneElse', { as: TEST_TENANT })).body.code, 'tenant_mismatch');
  });

  it('verifies JWTs with a PEM public key and with a JWKS endpoint; a JWKS that does not answer is 503', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const pemUrl = await startApi({ auth: { jwt: { publicKey: await exportSPKI(rsa.publicKey), issuer: 'https://issuer.test' } }, rateLimit: false });
    const rs = (claims: Record<string, unknown>) =>
      new SignJWT({ tenant: TEST_TENANT, ...claims }).setProtectedHeader({ alg: 'RS256' }).setSubject('svc').setIssuer('https://issuer.test').setExpirationTime('5m').sign(rsa.privateKey);
    const request = seedRequest(h);
    assert.equal((await checkedRequest(pemUrl, 'POST', '/v1/jobs', { body: request, headers: { authorization: `Bearer ${await rs({})}` } })).status, 202);
    // An HS256 token signed with the public key as the secret (algorithm confusion) is refused.
    const pem = await exportSPKI(rsa.publicKey);
    const confused = await new SignJWT({ tenant: TEST_TENANT }).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').setIssuer('https://issuer.test').setExpirationTime('5m').sign(new TextEncoder().encode(pem));
    assert.equal((await checkedRequest(pemUrl, 'GET', '/v1/jobs', { headers: { authorization: `Bearer ${confused}` } })).status, 401);
    const wrongIssuer = await new SignJWT({ tenant: TEST_TENANT }).setProtectedHeader({ alg: 'RS256' }).setSubject('svc').setIssuer('https://other').setExpirationTime('5m').sign(rsa.privateKey);
    const refused = await checkedRequest(pemUrl, 'GET', '/v1/jobs', { headers: { authorization: `Bearer ${wrongIssuer}` } });
    assert.equal(refused.status, 401);
    assert.match(refused.body.message, /iss claim/);
    // API keys are not accepted by an API configured for JWTs only.
    assert.match((await checkedRequest(pemUrl, 'GET', '/v1/jobs', { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).body.message, /API keys are not accepted/);

    const ec = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwks: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const jwksApi = await startApi({ auth: { jwt: { jwksUrl } }, rateLimit: false });
    const es = await new SignJWT({ tenant: TEST_TENANT }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('svc').setExpirationTime('5m').sign(ec.privateKey);
    assert.equal((await checkedRequest(jwksApi, 'GET', `/v1/jobs/${jobKey(request)}`, { headers: { authorization: `Bearer ${es}` } })).status, 200);
    const unknownKid = await new SignJWT({ tenant: TEST_TENANT }).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setSubject('svc').setExpirationTime('5m').sign(ec.privateKey);
    assert.equal((await checkedRequest(jwksApi, 'GET', '/v1/jobs', { headers: { authorization: `Bearer ${unknownKid}` } })).status, 401);

    jwks.closeAllConnections();
    await new Promise((resolve) => jwks.close(resolve));
    const downApi = await startApi({ auth: { jwt: { jwksUrl } }, rateLimit: false });
    const unavailable = await checkedRequest(downApi, 'GET', '/v1/jobs', { headers: { authorization: `Bearer ${es}` } });
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.body.code, 'auth_unavailable');
  });

  it('builds its auth from WARDEN_API_KEYS and WARDEN_JWT_SECRET', async () => {
    const env = {
      WARDEN_API_KEYS: JSON.stringify([{ id: 'ops-1', tenant: 'appEnv', key_sha256: hashApiKey('wdn_env-key-1') }]),
      WARDEN_JWT_SECRET: 'an-env-secret-of-at-least-32-bytes!!',
    };
    const auth = authFromEnv(env);
    assert.ok(auth);
    const url = await startApi({ auth, rateLimit: false });
    const byKey = await checkedRequest(url, 'GET', '/v1/jobs', { headers: { authorization: 'Bearer wdn_env-key-1' } });
    assert.equal(byKey.status, 200);
    const token = await signTestToken('appEnv', { secret: env.WARDEN_JWT_SECRET });
    assert.equal((await checkedRequest(url, 'GET', '/v1/jobs', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal(authFromEnv({}), undefined);
    assert.throws(() => authFromEnv({ WARDEN_API_KEYS: '[{' }), /WARDEN_API_KEYS is not readable JSON/);
    assert.throws(() => authFromEnv({ WARDEN_API_KEYS: '[{"id":"a","tenant":"t","key_sha256":"00"}]' }), /WARDEN_API_KEYS\[0\]\.key_sha256/);
    assert.throws(() => authFromEnv({ WARDEN_API_KEYS: '[]', WARDEN_API_KEYS_FILE: '/x' }), /not both/);
    assert.throws(() => authFromEnv({ WARDEN_JWT_SECRET: 'x'.repeat(40), WARDEN_JWT_JWKS_URL: 'https://x' }), /set one of/);
  });
});
