import { devNull } from 'node:os';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { hashApiKey } from '../../src/ingest/auth/api-keys.ts';
import { IngestApi, type IngestApiOptions } from '../../src/ingest/http/http-api.ts';
import { accessLoggedResultReader } from '../../src/ingest/http/result-reader.ts';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { WardenProducer } from '../../src/ingest/producer.ts';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import type { JobRecord } from '../../src/jobs/job-record.ts';
import { isTerminal } from '../../src/jobs/job-states.ts';
import { openResult } from '../../src/runtime/crypto/job-sealing.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../src/stack/local-stack.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** The harness API's credentials: one API key for tenant `appTest`, and HS256 JWTs for any tenant. */
export const TEST_TENANT = 'appTest';
export const TEST_API_KEY_ID = 'test-key';
export const TEST_API_KEY = 'wdn_test-key-for-the-harness-only-0123456789abcdef';
export const TEST_JWT_SECRET = 'harness-jwt-secret-0123456789abcdef-0123456789';

/** A JWT for `tenant` signed with the harness secret; `claims` and `expiresIn` override the defaults. */
export async function signTestToken(tenant: string, options: { sub?: string; expiresIn?: string | number; claims?: Record<string, unknown>; secret?: string } = {}): Promise<string> {
  return new SignJWT({ tenant, ...options.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.sub ?? `svc-${tenant}`)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export interface ApiCall {
  body?: unknown;
  headers?: Record<string, string>;
  /** Whose credential to send: a tenant (a JWT; `appTest`: the API key), or false for none. Default: the body's base_id, else appTest. */
  as?: string | false;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface Harness {
  stack: LocalStack;
  runtime: RuntimeContext;
  supervisor: Supervisor;
  producer: WardenProducer;
  api: IngestApi;
  apiUrl: string;
  /** POST /v1/jobs with a credential of the body's tenant (unless headers carry an authorization). */
  post(body: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** GET with the appTest API key (unless headers carry an authorization). */
  get(path: string, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Any request; see ApiCall for the credential sent. */
  send(method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH', path: string, call?: ApiCall): Promise<ApiResponse>;
  /** `Authorization` header value for a tenant (the API key for appTest, else a JWT). */
  authFor(tenant: string): Promise<string>;
  waitFor(id: string, predicate?: (job: JobRecord) => boolean, timeoutMs?: number): Promise<JobRecord>;
  stop(): Promise<void>;
}

/** The whole local stack plus one in-process supervisor and the ingest API, on free ports. */
export async function startHarness(options: LocalStackOptions & { supervise?: boolean; api?: IngestApiOptions } = {}): Promise<Harness> {
  const stack = await startLocalStack({
    partitions: 2,
    timeScale: 0.001,
    timeoutRate: 0,
    ...options,
    configOverrides: (config) => {
      config['metrics'] = { output: devNull, flushIntervalMs: 0 };
      config['llm'] = { ...config['llm'], timeoutMs: 5000, firstByteTimeoutMs: 5000 };
      options.configOverrides?.(config);
    },
  });
  const runtime = await createRuntime(stack.config, { log: createLogger({ level: 'silent', service: 'test' }) });
  const supervisor = new Supervisor(runtime, { id: 'test-supervisor' });
  if (options.supervise !== false) await supervisor.start();
  const api = new IngestApi(
    ingestDeps(runtime),
    runtime.log,
    options.api ?? {
      auth: { apiKeys: [{ id: TEST_API_KEY_ID, tenant: TEST_TENANT, key_sha256: hashApiKey(TEST_API_KEY) }], jwt: { secret: TEST_JWT_SECRET } },
      // Existing suites submit hundreds of jobs at once; tests/api checks the limiter on its own.
      rateLimit: false,
      readResult: accessLoggedResultReader({ accessLog: runtime.accessLog, clock: runtime.clock, open: (job) => openResult(runtime.cipher, job) }),
    },
  );
  const apiUrl = await api.listen(0, '127.0.0.1');
  const producer = new WardenProducer({ payloads: runtime.payloads, cipher: runtime.cipher, queueFor: (p) => runtime.queueFor(p), partitions: stack.config.partitions });
  const tokens = new Map<string, Promise<string>>();
  const authFor = async (tenant: string): Promise<string> => {
    if (tenant === TEST_TENANT) return `Bearer ${TEST_API_KEY}`;
    if (!tokens.has(tenant)) tokens.set(tenant, signTestToken(tenant));
    return `Bearer ${await (tokens.get(tenant) as Promise<string>)}`;
  };
  const send = async (method: string, path: string, { body, headers = {}, as }: ApiCall = {}): Promise<ApiResponse> => {
    const claimed = body !== null && typeof body === 'object' ? (body as { base_id?: unknown }).base_id : undefined;
    const tenant = as ?? (typeof claimed === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(claimed) ? claimed : TEST_TENANT);
    const given = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
    const auth = given || tenant === false ? {} : { authorization: await authFor(tenant) };
    const response = await request(`${apiUrl}${path}`, {
      method: method as 'GET',
      headers: body === undefined ? { ...auth, ...headers } : { 'content-type': 'application/json', ...auth, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    stack,
    runtime,
    supervisor,
    producer,
    api,
    apiUrl,
    post: (body, headers) => send('POST', '/v1/jobs', { body, ...(headers ? { headers } : {}) }),
    get: (path, headers) => send('GET', path, headers ? { headers } : {}),
    send,
    authFor,
    async waitFor(id, predicate = (job) => isTerminal(job.state), timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await runtime.checkpoints.get(id);
        if (job && predicate(job)) return job;
        if (Date.now() > deadline) throw new Error(`job ${id} did not get there in ${timeoutMs} ms (state ${job?.state ?? 'absent'})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      await supervisor.stop(2000);
      await api.close();
      await runtime.close();
      await stack.stop();
    },
  };
}

let sequence = 0;

/** A request on a fresh record (seeded in the simulated record store) unless one is given. */
export function seedRequest(harness: Harness, overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  sequence += 1;
  const record = `rec${process.pid}x${sequence}`;
  const request: GenerationRequest = {
    base_id: 'appTest',
    table_id: 'tblTest',
    record_id: record,
    field_id: 'fldSummary',
    prompt_version: 'summary-v1',
    inputs: { fldNotes: `notes of ${record}`, fldTitle: `title ${sequence}` },
    ...overrides,
  };
  harness.stack.records.putRecord(request.base_id, request.table_id, request.record_id, { ...request.inputs, fldOther: 'x' });
  return request;
}
