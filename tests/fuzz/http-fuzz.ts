import { connect } from 'node:net';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import type { Harness } from '../support/harness.ts';
import { parseGenerationRequest } from '../../src/jobs/generation-request.ts';
import { BODY_LIMIT_BYTES, invalidUtf8BodyArb, malformedTextArb, mutatedRequestArb, validRequestArb } from './request-arbitraries.ts';
import { captureCrashes, claimedTenant, fuzzAuthorization, listPayloadKeys, scanJobIds, WRONG_AUTH_MODES, type AuthMode } from './fuzz-support.ts';

/** One malformed HTTP exchange: a body through undici, or raw bytes over a socket. */
export interface HttpCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body as a stream: chunked, no content-length, so the limit must hold while reading. */
  chunked?: boolean;
  /** Raw request bytes (request-target and framing fuzz); replaces everything above. */
  raw?: Buffer;
  /** The credential sent with a non-raw case: default `valid` (the body's tenant); or a wrong one. */
  auth?: AuthMode;
  /** A literal Authorization header value (garbage credentials); overrides `auth`. */
  authorization?: string;
}

export interface HttpOutcome {
  status: number | 'reset' | 'no_response';
  code?: string;
}

export interface HttpFailure {
  kind: string;
  problem: '5xx' | 'no_response' | 'accepted_invalid' | 'reset' | 'wrong_credential_not_refused';
  status: HttpOutcome['status'];
  code?: string;
  /** The first bytes of what was sent (JSON-escaped), enough to replay the case. */
  input: string;
}

export interface HttpFuzzResult {
  cases: number;
  http5xx: number;
  crashes: number;
  noResponse: number;
  accepted: number;
  /** Cases with a wrong credential (all must be refused with 401, or 403 for another tenant's). */
  wrongCredentials: number;
  /** Kinds a lenient server accepted (status 202): not failures, findings. */
  acceptedKinds: Record<string, number>;
  statuses: Record<string, number>;
  failures: HttpFailure[];
  crashErrors: string[];
  /** Job items or payload objects that belong to no accepted request. */
  writtenForRefused: string[];
  serverAlive: boolean;
  durationMs: number;
}

const JSON_TYPE = { 'content-type': 'application/json' };

const bodyCaseArb: fc.Arbitrary<HttpCase> = fc.oneof(
  { arbitrary: mutatedRequestArb.map((m) => ({ kind: m.kind, method: 'POST', path: '/v1/jobs', headers: JSON_TYPE, body: Buffer.from(JSON.stringify(m.request)) })), weight: 10 },
  { arbitrary: malformedTextArb.map((m) => ({ kind: m.kind, method: 'POST', path: '/v1/jobs', headers: JSON_TYPE, body: Buffer.from(m.text) })), weight: 6 },
  { arbitrary: invalidUtf8BodyArb.map((m) => ({ kind: m.kind, method: 'POST', path: '/v1/jobs', headers: JSON_TYPE, body: m.body })), weight: 3 },
  {
    // A valid body under a content type that is not JSON.
    arbitrary: fc
      .tuple(validRequestArb, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'json', '*/*', 'application/octet-stream', ''))
      .map(([r, type]): HttpCase => ({ kind: `content_type:${type || 'none'}`, method: 'POST', path: '/v1/jobs', headers: type ? { 'content-type': type } : {}, body: Buffer.from(JSON.stringify(r)) })),
    weight: 2,
  },
  {
    // Over the body limit: declared by content-length, or streamed without one.
    arbitrary: fc
      .tuple(validRequestArb, fc.integer({ min: 1, max: 200_000 }), fc.boolean())
      .map(([r, extra, chunked]) => {
        const body = Buffer.from(JSON.stringify({ ...r, context: 'x'.repeat(BODY_LIMIT_BYTES + extra) }));
        return { kind: `over_limit:${chunked ? 'chunked' : 'declared'}`, method: 'POST', path: '/v1/jobs', headers: JSON_TYPE, body, chunked };
      }),
    weight: 2,
  },
);

const host = 'Host: 127.0.0.1\r\n';
const rawCaseArb: fc.Arbitrary<HttpCase> = fc.oneof(
  // Request targets: absolute forms (valid and not), odd paths, percent-encoding, very long.
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'FOO'),
      fc.oneof(
        fc.constantFrom('http://[', 'http://[::1/v1/jobs', 'http://a:b@[/', 'http://x:99999/', 'http://%zz/', 'https://', 'http:', '//', '//x/../v1/jobs', '*', '/v1/jobs/%zz', '/v1/jobs/%00', '/v1/jobs?x=%ff', '/v1/./jobs', '/v1/jobs#frag', '/healthz/../v1/jobs'),
        fc.string({ minLength: 1, maxLength: 30 }).map((s) => `http://${encodeURI(s).replace(/[\r\n ]/g, '')}/`),
        fc.string({ minLength: 1, maxLength: 30 }).map((s) => `/v1/jobs/${encodeURIComponent(s)}`),
        fc.integer({ min: 1_000, max: 20_000 }).map((n) => `/v1/jobs/${'a'.repeat(n)}`),
        fc.stringMatching(/^[0-9a-f]{64}$/).map((id) => `/v1/jobs/${id}/result`),
      ),
    )
    .map(([method, target]) => ({
      kind: `request_target:${method}`,
      method,
      path: target,
      headers: {},
      raw: Buffer.from(`${method} ${target} HTTP/1.1\r\n${host}Content-Length: 0\r\nConnection: close\r\n\r\n`),
    })),
  // Framing: a body shorter than its content-length (the client gives up), bad chunking, bad headers.
  fc.tuple(validRequestArb, fc.integer({ min: 1, max: 500 })).map(([r, missing]) => {
    const body = JSON.stringify(r);
    return {
      kind: 'framing:short_body',
      method: 'POST',
      path: '/v1/jobs',
      headers: {},
      raw: Buffer.from(`POST /v1/jobs HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${body.length + missing}\r\n\r\n${body}`),
    };
  }),
  fc.constantFrom(
    'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n',
    'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}',
    'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n',
    'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Trace-Id: \u00ff\u00fe\r\nContent-Length: 2\r\n\r\n{}',
    'GET /healthz HTTP/9.9\r\n\r\n',
    'GARBAGE\r\n\r\n',
    '\u0000\u0001\u0002\r\n\r\n',
  ).map((text) => ({ kind: 'framing:malformed_http', method: 'RAW', path: '', headers: {}, raw: Buffer.from(text, 'latin1') })),
);

const ZERO_ID = '0'.repeat(64);

/**
 * Wrong credentials on every authenticated route: missing, unknown, forged, expired, incomplete,
 * unsigned, another scheme, garbage, or a valid one of another tenant. The body is a valid request
 * (on POST), so only the credential is wrong.
 */
const authCaseArb: fc.Arbitrary<HttpCase> = fc
  .tuple(
    validRequestArb,
    fc.constantFrom(['POST', '/v1/jobs'], ['GET', '/v1/jobs'], ['GET', `/v1/jobs/${ZERO_ID}`], ['DELETE', `/v1/jobs/${ZERO_ID}`], ['GET', `/v1/jobs/${ZERO_ID}/result`]),
    fc.oneof(
      { arbitrary: fc.constantFrom(...WRONG_AUTH_MODES).map((auth) => ({ auth })), weight: 4 },
      {
        // Garbage in the header itself (visible ASCII: undici refuses to send anything else).
        arbitrary: fc
          .oneof(fc.stringMatching(/^[\x20-\x7e]{0,300}$/), fc.stringMatching(/^[\x21-\x7e]{1,300}$/).map((t) => `Bearer ${t}`), fc.constantFrom('Bearer', 'Bearer ', 'bearer  x y', 'Token abc', `Bearer ${'a'.repeat(9000)}`, 'Bearer a.b.c', 'Bearer ..'))
          .map((authorization) => ({ authorization: authorization.trim() === '' ? 'x' : authorization })),
        weight: 1,
      },
    ),
  )
  .map(([request, [method, path], credential]) => ({
    kind: `auth:${'auth' in credential ? credential.auth : 'garbage'}:${method}`,
    method: method as string,
    path: path as string,
    headers: method === 'POST' ? JSON_TYPE : {},
    ...(method === 'POST' ? { body: Buffer.from(JSON.stringify(request)) } : {}),
    ...credential,
  }));

/** The HTTP cases, weighted toward bodies (what product surfaces send). */
export const httpCaseArb: fc.Arbitrary<HttpCase> = fc.oneof({ arbitrary: bodyCaseArb, weight: 9 }, { arbitrary: rawCaseArb, weight: 1 }, { arbitrary: authCaseArb, weight: 1 });

const PROMPT_VERSIONS = new Set(['summary-v1', 'followup-v1']);

/**
 * The oracle for "may be accepted": a lenient server (lossy UTF-8 decode, last duplicate key
 * wins, any Unicode) would see a valid request. A 202 for anything else is a bug; a 202 for
 * these is reported as a finding (`acceptedKinds`), not failed.
 */
export function lenientlyValid(c: HttpCase): boolean {
  if (c.raw || !c.body || c.method !== 'POST' || c.path !== '/v1/jobs') return false;
  if ((c.auth ?? 'valid') !== 'valid' || c.authorization !== undefined) return false;
  if (!/^application\/json\b/i.test(c.headers['content-type'] ?? '') || c.body.length > BODY_LIMIT_BYTES) return false;
  try {
    return PROMPT_VERSIONS.has(parseGenerationRequest(JSON.parse(c.body.toString('utf8'))).prompt_version);
  } catch {
    return false;
  }
}

function wrongCredential(c: HttpCase): boolean {
  return !c.raw && (c.authorization !== undefined || (c.auth ?? 'valid') !== 'valid');
}

/** A wrong credential gets 401; a valid one of another tenant gets 403 on submit (and only its own data elsewhere). */
function refusedCredential(c: HttpCase, outcome: HttpOutcome): boolean {
  if (c.auth === 'other_tenant') return c.method === 'POST' ? outcome.status === 403 && outcome.code === 'tenant_mismatch' : outcome.status !== 202;
  return outcome.status === 401 && outcome.code === 'unauthorized';
}

function preview(c: HttpCase): string {
  const bytes = c.raw ?? c.body ?? Buffer.alloc(0);
  const head = JSON.stringify(bytes.subarray(0, 300).toString('latin1'));
  const credential = c.raw ? '' : ` auth=${c.authorization !== undefined ? JSON.stringify(c.authorization.slice(0, 80)) : (c.auth ?? 'valid')}`;
  return `${c.raw ? 'RAW' : `${c.method} ${c.path} ${JSON.stringify(c.headers)}${c.chunked ? ' chunked' : ''}`}${credential} ${head}${bytes.length > 300 ? ` …(${bytes.length} bytes)` : ''}`;
}

async function sendRaw(port: number, raw: Buffer, timeoutMs: number, halfClose: boolean): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const head = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      const code = /"code":"([a-z_]+)"/.exec(head)?.[1];
      resolve(match ? { status: Number(match[1]), ...(code ? { code } : {}) } : { status: head.length === 0 ? 'no_response' : 'reset' });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('connect', () => {
      socket.write(raw);
      // Node's server drops a request whose client half-closes before the answer; only the
      // short-body case gives up (the server must then see the body end early).
      if (halfClose) socket.end();
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', finish);
  });
}

async function sendCase(agent: Agent, h: Harness, c: HttpCase): Promise<HttpOutcome> {
  const apiUrl = h.apiUrl;
  if (c.raw) return sendRaw(Number(new URL(apiUrl).port), c.raw, 3_000, c.kind === 'framing:short_body');
  const authorization = c.authorization ?? (await fuzzAuthorization(h, c.auth ?? 'valid', claimedTenant(c.body)));
  const headers = authorization === undefined ? c.headers : { ...c.headers, authorization };
  try {
    const whole = c.body;
    const body = whole && c.chunked ? Readable.from((function* () { for (let i = 0; i < whole.length; i += 16_384) yield whole.subarray(i, i + 16_384); })()) : whole;
    const response = await request(`${apiUrl}${c.path}`, { method: c.method as 'POST', headers, ...(body === undefined ? {} : { body }), dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await response.body.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string; id?: string }).code;
    } catch {
      // A non-JSON body is itself suspicious, but the status says enough.
    }
    const outcome: HttpOutcome & { id?: string } = { status: response.statusCode, ...(code ? { code } : {}) };
    if (response.statusCode === 202) outcome.id = (JSON.parse(text) as { id: string }).id;
    return outcome;
  } catch {
    // The server may answer 413 and close before the client has written an oversized body.
    return { status: 'reset' };
  }
}

async function alive(apiUrl: string, agent: Agent): Promise<boolean> {
  try {
    const response = await request(`${apiUrl}/healthz`, { dispatcher: agent, headersTimeout: 5_000 });
    await response.body.text();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * Sends `runs` generated malformed requests to the real ingest API (harness), `concurrency` at a
 * time, and checks what the brief demands: no 5xx, no crash (unhandled rejection or uncaught
 * exception anywhere in the process), the server still answers, and nothing is stored for a
 * refused request (every new job item and payload object belongs to a request answered 202).
 */
export async function runHttpFuzz(h: Harness, options: { runs: number; seed: number; concurrency?: number; kinds?: RegExp }): Promise<HttpFuzzResult> {
  const started = performance.now();
  const arbitrary = options.kinds ? httpCaseArb.filter((c) => options.kinds!.test(c.kind)) : httpCaseArb;
  const cases = fc.sample(arbitrary, { numRuns: options.runs, seed: options.seed });
  const agent = new Agent({ connections: options.concurrency ?? 16, keepAliveTimeout: 1_000 });
  const crashes = captureCrashes();
  const jobsBefore = new Set(await scanJobIds(h));
  const keysBefore = new Set(await listPayloadKeys(h));
  const result: HttpFuzzResult = {
    cases: cases.length,
    http5xx: 0,
    crashes: 0,
    noResponse: 0,
    accepted: 0,
    wrongCredentials: 0,
    acceptedKinds: {},
    statuses: {},
    failures: [],
    crashErrors: [],
    writtenForRefused: [],
    serverAlive: false,
    durationMs: 0,
  };
  const acceptedIds = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++] as HttpCase;
      const outcome = (await sendCase(agent, h, c)) as HttpOutcome & { id?: string };
      if (wrongCredential(c)) result.wrongCredentials += 1;
      const key = String(outcome.status);
      result.statuses[key] = (result.statuses[key] ?? 0) + 1;
      const fail = (problem: HttpFailure['problem']) =>
        result.failures.push({ kind: c.kind, problem, status: outcome.status, ...(outcome.code ? { code: outcome.code } : {}), input: preview(c) });
      if (typeof outcome.status === 'number' && outcome.status >= 500) {
        result.http5xx += 1;
        fail('5xx');
      } else if (outcome.status === 'no_response' && c.kind !== 'framing:short_body') {
        result.noResponse += 1;
        fail('no_response');
      } else if (outcome.status === 'reset' && !c.kind.startsWith('over_limit') && !c.kind.startsWith('framing')) {
        fail('reset');
      } else if (wrongCredential(c) && !refusedCredential(c, outcome)) {
        fail('wrong_credential_not_refused');
      } else if (outcome.status === 202) {
        result.accepted += 1;
        result.acceptedKinds[c.kind.split(':').slice(0, 2).join(':')] = (result.acceptedKinds[c.kind.split(':').slice(0, 2).join(':')] ?? 0) + 1;
        if (outcome.id) acceptedIds.add(outcome.id);
        if (!lenientlyValid(c)) fail('accepted_invalid');
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  result.serverAlive = await alive(h.apiUrl, agent);
  // Give a crash that surfaced on a later tick the chance to be seen.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const crashed = crashes.stop();
  result.crashes = crashed.length;
  result.crashErrors = crashed.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)).split('\n').slice(0, 6).join('\n'));
  for (const id of await scanJobIds(h)) if (!jobsBefore.has(id) && !acceptedIds.has(id)) result.writtenForRefused.push(`jobs table item ${id}`);
  for (const key of await listPayloadKeys(h)) {
    const owner = /^payloads\/([0-9a-f]{64})\//.exec(key)?.[1];
    if (!keysBefore.has(key) && !(owner && acceptedIds.has(owner))) result.writtenForRefused.push(`payload object ${key}`);
  }
  await agent.close();
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
