import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { OwnershipLostError, ValidationError, WardenError } from '../../errors.ts';
import { BODY_LIMIT_BYTES } from '../../jobs/generation-request.ts';
import type { JobRecord } from '../../jobs/job-record.ts';
import { submitJob, type SubmitDeps } from '../submit-job.ts';
import { sendError, sendJson } from './error-envelope.ts';
import { jobView } from './job-view.ts';
import { readJsonBody } from './read-body.ts';

const JOB_PATH = /^\/v1\/jobs\/([0-9a-f]{64})(\/result)?$/;

function notFound(id: string): WardenError {
  return new WardenError('not_found', `no job ${id}`);
}

/** The ingest HTTP API: submit, status, result and cancel. */
export class IngestApi {
  private readonly server: Server;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly deps: SubmitDeps,
    private readonly log: Logger,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.log.error({ err: error }, 'ingest handler failed outside its error envelope');
        if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'internal error' });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['x-trace-id'];
    const traceId = typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : randomUUID();
    try {
      // An absolute-form request target can be an invalid URL: parse it where errors are caught.
      if (!URL.canParse(req.url ?? '/', 'http://ingest')) throw new WardenError('invalid_request', 'the request target is not a valid URL');
      const url = new URL(req.url ?? '/', 'http://ingest');
      if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
      if (url.pathname === '/v1/jobs') {
        if (req.method !== 'POST') throw new WardenError('method_not_allowed', `${req.method} is not allowed on /v1/jobs`);
        const body = await readJsonBody(req, BODY_LIMIT_BYTES);
        const { job, duplicate } = await submitJob(this.deps, body, traceId);
        return sendJson(res, 202, { id: job.id, status: job.state, duplicate }, { location: `/v1/jobs/${job.id}` });
      }
      const match = JOB_PATH.exec(url.pathname);
      if (!match) throw new WardenError('not_found', `no route ${url.pathname}`);
      const id = match[1] as string;
      if (match[2]) return await this.result(res, id, req.method);
      if (req.method === 'GET') return sendJson(res, 200, jobView(await this.load(id)));
      if (req.method === 'DELETE') return sendJson(res, 200, jobView(await this.cancel(id)));
      throw new WardenError('method_not_allowed', `${req.method} is not allowed on a job`);
    } catch (error) {
      // An oversized body is not read to its end: close the connection rather than drain it.
      if (error instanceof ValidationError && error.code === 'payload_too_large') res.setHeader('connection', 'close');
      const status = sendError(res, error, traceId);
      if (status >= 500) this.log.error({ err: error, trace_id: traceId }, 'ingest request failed');
    }
  }

  private async load(id: string): Promise<JobRecord> {
    const job = await this.deps.checkpoints.get(id);
    if (!job) throw notFound(id);
    return job;
  }

  private async result(res: ServerResponse, id: string, method: string | undefined): Promise<void> {
    if (method !== 'GET') throw new WardenError('method_not_allowed', `${method} is not allowed on a result`);
    const job = await this.load(id);
    if (!job.result) throw new WardenError('not_found', `job ${id} has no result yet (status ${job.state})`);
    sendJson(res, 200, { id, status: job.state, text: job.result.text, model: job.result.model, generated_at: job.result.generated_at });
  }

  /** Cancels a job that has not started; once the LLM call is under way it is too late. */
  private async cancel(id: string): Promise<JobRecord> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const job = await this.load(id);
      if (job.state === 'cancelled') return job;
      if (job.state !== 'queued' && job.state !== 'leased') {
        throw new WardenError('too_late_to_cancel', `job ${id} is ${job.state}; only queued or leased jobs can be cancelled`);
      }
      try {
        return await this.deps.checkpoints.transition(id, { event: 'cancel', from: job.state, writer: { actor: 'ingest-api' }, reason: 'cancelled by submitter' });
      } catch (error) {
        if (!(error instanceof OwnershipLostError)) throw error;
      }
    }
    throw new WardenError('too_late_to_cancel', `job ${id} kept moving; try again`);
  }

  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    return this.closed;
  }
}
