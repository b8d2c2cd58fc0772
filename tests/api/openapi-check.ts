import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ApiCall, ApiResponse, Harness } from '../support/harness.ts';

/**
 * Checks API responses against the committed OpenAPI document (openapi/warden-ingest.json): the
 * status must be documented for that path and method (or fall under `default` for the statuses
 * listed in DEFAULT_OK), and the body must match that response's schema (ajv, draft 2020-12).
 */
export const DOCUMENT = JSON.parse(readFileSync(new URL('../../openapi/warden-ingest.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> }> }>>;
  components: { schemas: Record<string, unknown> };
};

/** Statuses that may be answered through `default` on any operation: not per-operation outcomes. */
const DEFAULT_OK = new Set([405, 500]);
const DOC_ID = 'urn:warden:openapi';

const ajv = new Ajv2020({ allErrors: true, strict: false });
ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)) });
ajv.addSchema({ ...DOCUMENT, $id: DOC_ID });

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** The documented path template a concrete path falls under. */
export function templateOf(path: string): string | undefined {
  const pathname = path.split('?')[0] as string;
  return Object.keys(DOCUMENT.paths).find((template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replaceAll('.', '\\.')}$`).test(pathname));
}

let checked = 0;
export function checkedCount(): number {
  return checked;
}

/** Asserts that `response` is what the document says `method path` answers with that status. */
export function assertDocumented(method: string, path: string, response: { status: number; body: unknown; headers?: Record<string, unknown> }): void {
  const template = templateOf(path);
  const label = `${method} ${path.slice(0, 120)} → ${response.status}`;
  let schemaRef: string;
  if (!template) {
    // Unknown routes have no operation: their 404 must still be the envelope.
    assert.equal(response.status, 404, `${label}: not a documented path`);
    schemaRef = `${DOC_ID}#/components/schemas/ErrorEnvelope`;
  } else {
    const operation = DOCUMENT.paths[template]?.[method.toLowerCase()];
    if (!operation) {
      assert.equal(response.status, 405, `${label}: undocumented method`);
      schemaRef = `${DOC_ID}#/components/schemas/ErrorEnvelope`;
    } else {
      const status = String(response.status);
      const key = operation.responses[status] ? status : 'default';
      assert.ok(key === status || DEFAULT_OK.has(response.status), `${label}: status not documented for this operation`);
      schemaRef = `${DOC_ID}#/${pointer('paths', template, method.toLowerCase(), 'responses', key, 'content', 'application/json', 'schema')}`;
      for (const header of Object.keys(operation.responses[key]?.headers ?? {})) {
        if (['www-authenticate', 'retry-after', 'allow'].includes(header.toLowerCase())) {
          assert.ok(response.headers?.[header.toLowerCase()], `${label}: documented header ${header} missing`);
        }
      }
    }
  }
  const validate = ajv.getSchema(schemaRef) ?? ajv.compile({ $ref: schemaRef });
  const ok = validate(response.body);
  assert.ok(ok, `${label}: body does not match the OpenAPI schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body).slice(0, 500)}`);
  checked += 1;
}

/** Asserts that a body is the error envelope (for answers outside any route: Node's parser errors). */
export function assertEnvelope(body: unknown): void {
  const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/ErrorEnvelope`) ?? ajv.compile({ $ref: `${DOC_ID}#/components/schemas/ErrorEnvelope` });
  assert.ok(validate(body), `not the error envelope: ${ajv.errorsText(validate.errors)}: ${JSON.stringify(body)}`);
  checked += 1;
}

/** The harness' client, with every response checked against the document. */
export function checkedClient(h: Harness) {
  return {
    async send(method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH', path: string, call: ApiCall = {}): Promise<ApiResponse> {
      const response = await h.send(method, path, call);
      assertDocumented(method, path, response);
      return response;
    },
    get(path: string, call: ApiCall = {}) {
      return this.send('GET', path, call);
    },
    post(body: unknown, call: Omit<ApiCall, 'body'> = {}) {
      return this.send('POST', '/v1/jobs', { ...call, body });
    },
    del(path: string, call: ApiCall = {}) {
      return this.send('DELETE', path, call);
    },
  };
}

/** A request to any IngestApi (not only the harness'), checked against the document. */
export async function checkedRequest(
  baseUrl: string,
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const result: ApiResponse = { status: response.status, headers: Object.fromEntries(response.headers), body: text ? JSON.parse(text) : undefined };
  assertDocumented(method, path, result);
  return result;
}
