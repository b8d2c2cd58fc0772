import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { IngestApi } from '../../src/ingest/http/http-api.ts';
import { STATUS_BY_CODE } from '../../src/ingest/http/error-envelope.ts';
import { buildOpenApiDocument, codesFor, openApiText } from '../../src/ingest/http/openapi.ts';
import type { SubmitDeps } from '../../src/ingest/submit-job.ts';
import { generationRequestSchema } from '../../src/jobs/generation-request.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { DOCUMENT, checkedRequest } from './openapi-check.ts';

const committed = readFileSync(new URL('../../openapi/warden-ingest.json', import.meta.url), 'utf8');
const log = createLogger({ level: 'silent', service: 'test' });
/** Enough of SubmitDeps for routes that never touch storage. */
const bareDeps = { clock: systemClock } as unknown as SubmitDeps;

describe('the OpenAPI document', () => {
  it('is committed exactly as the code generates it (node --import tsx openapi/generate.ts)', () => {
    assert.equal(committed, openApiText(), 'openapi/warden-ingest.json is stale: run node --import tsx openapi/generate.ts');
  });

  it('describes the request body with the one generation request schema', () => {
    const { $id: _id, ...schema } = generationRequestSchema;
    const { description: _d, ...documented } = DOCUMENT.components.schemas['GenerationRequest'] as Record<string, unknown>;
    assert.deepEqual(documented, JSON.parse(JSON.stringify(schema)));
  });

  it('holds only valid JSON Schema 2020-12 component schemas', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries(DOCUMENT.components.schemas)) {
      assert.ok(ajv.validateSchema(schema as object), `${name}: ${ajv.errorsText(ajv.errors)}`);
    }
  });

  it('documents every operation with its errors: auth, rate limit, and the envelope for the rest', () => {
    const doc = buildOpenApiDocument();
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'post', 'delete'].includes(method))
        .map(([method, op]) => ({ path, method, op: op as { security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown> }> } })),
    );
    assert.deepEqual(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort(), [
      'DELETE /v1/jobs/{id}',
      'GET /healthz',
      'GET /openapi.json',
      'GET /v1/jobs',
      'GET /v1/jobs/{id}',
      'GET /v1/jobs/{id}/result',
      'POST /v1/jobs',
    ]);
    for (const { path, method, op } of operations) {
      assert.ok(op.responses['default'], `${method} ${path}: default response`);
      if (op.security) continue; // the open ones
      for (const status of ['401', '429', '503']) assert.ok(op.responses[status], `${method} ${path}: ${status}`);
      assert.ok(op.responses['401']?.headers?.['WWW-Authenticate'], `${method} ${path}: WWW-Authenticate`);
      assert.ok(op.responses['429']?.headers?.['Retry-After'], `${method} ${path}: Retry-After`);
    }
    assert.ok(doc.paths['/v1/jobs'].post.responses['403'] && doc.paths['/v1/jobs'].post.responses['413']);
    assert.ok(doc.paths['/v1/jobs/{id}'].delete.responses['409']);
    assert.deepEqual(codesFor(401), ['unauthorized']);
    assert.deepEqual((DOCUMENT.components.schemas['ErrorEnvelope'] as { properties: { code: { enum: string[] } } }).properties.code.enum, Object.keys(STATUS_BY_CODE).sort());
  });
});

describe('IngestApi construction and the served document', () => {
  let api: IngestApi;
  let url: string;
  before(async () => {
    api = new IngestApi(bareDeps, log, { auth: { jwt: { secret: 'x'.repeat(32) } } });
    url = await api.listen(0, '127.0.0.1');
  });
  after(async () => {
    await api.close();
  });

  it('serves the committed document at GET /openapi.json without credentials', async () => {
    const response = await checkedRequest(url, 'GET', '/openapi.json');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, JSON.parse(committed));
    assert.equal((await checkedRequest(url, 'GET', '/healthz')).status, 200);
  });

  it('refuses to start without authentication unless allowAnonymous is explicit', () => {
    assert.throws(() => new IngestApi(bareDeps, log), (error: Error & { code?: string }) => error.code === 'auth_not_configured' && /allowAnonymous/.test(error.message));
    assert.throws(() => new IngestApi(bareDeps, log, {}), { code: 'auth_not_configured' } as object);
    assert.throws(() => new IngestApi(bareDeps, log, { allowAnonymous: false }), { code: 'auth_not_configured' } as object);
    assert.throws(() => new IngestApi(bareDeps, log, { allowAnonymous: true, auth: { apiKeys: [] } }), /cannot be combined/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: {} }), /auth.apiKeys, auth.jwt or both/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: { jwt: { secret: 'short' } } }), /jwt.secret must be at least 32 bytes/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: { jwt: { secret: 'x'.repeat(32), jwksUrl: 'https://x/jwks' } } }), /exactly one of/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: { jwt: { jwksUrl: 'http://example.com/jwks' } } }), /https/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: { apiKeys: [{ id: 'k', tenant: 'app', key_sha256: 'nothex' }] } }), /apiKeys\[0\]\.key_sha256/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: { jwt: { secret: 'x'.repeat(32) } }, rateLimit: { ratePerSecond: 0 } }), /rateLimit.ratePerSecond/);
    assert.throws(() => new IngestApi(bareDeps, log, { auth: { jwt: { secret: 'x'.repeat(32) } }, cursorSecret: 'short' }), /cursorSecret/);
    const anonymous = new IngestApi(bareDeps, log, { allowAnonymous: true });
    void anonymous.close();
  });
});
