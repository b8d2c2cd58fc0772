import { devNull } from 'node:os';
import { request } from 'undici';
import { IngestApi } from '../../src/ingest/http/http-api.ts';
import { ingestDeps } from '../../src/ingest/ingest-deps.ts';
import { WardenProducer } from '../../src/ingest/producer.ts';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import type { JobRecord } from '../../src/jobs/job-record.ts';
import { isTerminal } from '../../src/jobs/job-states.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../src/stack/local-stack.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export interface Harness {
  stack: LocalStack;
  runtime: RuntimeContext;
  supervisor: Supervisor;
  producer: WardenProducer;
  apiUrl: string;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string): Promise<{ status: number; body: any }>;
  waitFor(id: string, predicate?: (job: JobRecord) => boolean, timeoutMs?: number): Promise<JobRecord>;
  stop(): Promise<void>;
}

/** The whole local stack plus one in-process supervisor and the ingest API, on free ports. */
export async function startHarness(options: LocalStackOptions & { supervise?: boolean } = {}): Promise<Harness> {
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
  const api = new IngestApi(ingestDeps(runtime), runtime.log);
  const apiUrl = await api.listen(0, '127.0.0.1');
  const producer = new WardenProducer({ payloads: runtime.payloads, cipher: runtime.cipher, queueFor: (p) => runtime.queueFor(p), partitions: stack.config.partitions });
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await request(`${apiUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
  };
  return {
    stack,
    runtime,
    supervisor,
    producer,
    apiUrl,
    post: (body, headers) => call('POST', '/v1/jobs', body, headers),
    get: (path) => call('GET', path),
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
