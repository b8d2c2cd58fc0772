import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { OwnershipLostError, ValidationError, WardenError } from '../../errors.ts';
import { BODY_LIMIT_BYTES } from '../../jobs/generation-request.ts';
import type { JobRecord } from '../../jobs/job-record.ts';
import { Authenticator } from '../auth/authenticator.ts';
import type { RequestAuthenticator } from '../auth/principal.ts';
import { submitJob, type SubmitDeps } from '../submit-job.ts';
import { ApiError } from './api-error.ts';
import { checkAuthChoice, isRateLimiter, isRequestAuthenticator, type IngestApiOptions } from './api-options.ts';
import { sendError, sendJson, type ErrorEnvelope } from './error-envelope.ts';
import { jobView } from './job-view.ts';
import { ListCursorCodec } from './list-cursor.ts';
import { parseListQuery } from './list-query.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { TokenBucketRateLimiter, type RateLimiter } from './rate-limit.ts';
import { readJsonBody } from './read-body.ts';
import { plainResultReader, type ResultReader } from './result-reader.ts';

export type { IngestApiOptions } from './api-options.ts';

const JOB_ID = /^[0-9a-f]{64}$/;

/** Who is calling: a principal from the credential, or, without auth, nobody in particular. */
interface Caller {
  who: string;
  /** Undefined only when the API runs with allowAnonymous. */
  tenant: string | undefined;
  credentialId: string;
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  traceId: string;
  caller: Caller;
  /** The `{id}` path segment, when the route has one. */
  id: string;
}

interface Route {
  /** The path as the OpenAPI document names it (for messages). */
  name: string;
  pattern: RegExp;
  /** No credential, no rate limit. */
  open?: boolean;
  methods: Record<string, (exchange: Exchange) => Promise<void>>;
}

function notFound(id: string): WardenError {
  return new WardenError('not_found', `no job ${id.slice(0, 100)}`);
}

/**
 * The ingest HTTP API: submit, list, status, result and cancel, per tenant. Every request but
 * /healthz and /openapi.json carries `Authorization: Bearer <API key or JWT>`; the tenant comes
 * from the credential. Options: see IngestApiOptions.
 */
export class IngestApi {
  private readonly server: Server;
  private readonly auth: RequestAuthenticator | undefined;
  private readonly limiter: RateLimiter | undefined;
  private readonly cursors: ListCursorCodec;
  private readonly readResult: ResultReader;
  private readonly openapi = buildOpenApiDocument();
  private readonly routes: Route[];
  private closed: Promise<void> | undefined;

  constructor(
    private readonly deps: SubmitDeps,
    private readonly log: Logger,
    options: IngestApiOptions = {},
  ) {
    checkAuthChoice(options);
    this.auth = options.auth === undefined ? undefined : isRequestAuthenticator(options.auth) ? options.auth : new Authenticator(options.auth, deps.clock);
    this.limiter =
      options.rateLimit === false ? undefined : isRateLimiter(options.rateLimit) ? options.rateLimit : new TokenBucketRateLimiter(options.rateLimit ?? {}, deps.clock);
    this.cursors = new ListCursorCodec(options.cursorSecret);
    this.readResult = options.readResult ?? plainResultReader;
    this.routes = [
      { name: '/healthz', pattern: /^\/healthz$/, open: true, methods: { GET: async ({ res }) => sendJson(res, 200, { ok: true }) } },
      { name: '/openapi.json', pattern: /^\/openapi\.json$/, open: true, methods: { GET: async ({ res }) => sendJson(res, 200, this.openapi) } },
      { name: '/v1/jobs', pattern: /^\/v1\/jobs$/, methods: { POST: (x) => this.submit(x), GET: (x) => this.list(x) } },
      { name: '/v1/jobs/{id}', pattern: /^\/v1\/jobs\/([^/]+)$/, methods: { GET: (x) => this.status(x), DELETE: (x) => this.cancel(x) } },
      { name: '/v1/jobs/{id}/result', pattern: /^\/v1\/jobs\/([^/]+)\/result$/, methods: { GET: (x) => this.result(x) } },
    ];
    this.server = createServer((req, res) => {
      const traceId = this.traceIdOf(req);
      this.handle(req, res, traceId).catch((error: unknown) => {
        this.log.error({ err: error, trace_id: traceId }, 'ingest handler failed outside its error envelope');
        if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'internal error; quote the trace_id when reporting it', trace_id: traceId } satisfies ErrorEnvelope);
        else res.destroy();
      });
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.clientError(error, socket));
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

  private traceIdOf(req: IncomingMessage): string {
    const header = req.headers['x-trace-id'];
    return typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : randomUUID();
  }

  private async handle(req: IncomingMessage, res: ServerResponse, traceId: string): Promise<void> {
    res.setHeader('x-trace-id', traceId);
    try {
      // An absolute-form request target can be an invalid URL: parse it where errors are caught.
      if (!URL.canParse(req.url ?? '/', 'http://ingest')) throw new WardenError('invalid_request', 'the request target is not a valid URL');
      const url = new URL(req.url ?? '/', 'http://ingest');
      const found = this.route(url.pathname);
      if (!found) throw new WardenError('not_found', `no route ${url.pathname.slice(0, 200)}`);
      const { route, id } = found;
      const method = req.method ?? 'GET';
      const handler = route.methods[method];
      if (!handler) {
        throw new ApiError('method_not_allowed', `${method} is not allowed on ${route.name}`, { allow: Object.keys(route.methods).join(', ') });
      }
      const caller = route.open ? { who: 'anonymous', tenant: undefined, credentialId: 'open' } : await this.authenticate(req);
      if (!route.open) await this.admit(caller);
      await handler({ req, res, url, traceId, caller, id });
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A body not read to its end is not drained when it is (or claims to be) over the limit:
      // close the connection instead.
      const declared = Number(req.headers['content-length'] ?? 0);
      if ((error instanceof ValidationError && error.code === 'payload_too_large') || (!req.complete && declared > BODY_LIMIT_BYTES)) {
        res.setHeader('connection', 'close');
      }
      const status = sendError(res, error, traceId);
      if (status >= 500) this.log.error({ err: error, trace_id: traceId }, 'ingest request failed');
    }
  }

  private route(path: string): { route: Route; id: string } | undefined {
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (match) return { route, id: match[1] ?? '' };
    }
    return undefined;
  }

  private async authenticate(req: IncomingMessage): Promise<Caller> {
    if (!this.auth) {
      return { who: 'anonymous', tenant: undefined, credentialId: `anonymous:${req.socket.remoteAddress ?? 'unknown'}` };
    }
    const principal = await this.auth.authenticate(req.headers.authorization);
    return { who: principal.who, tenant: principal.tenant, credentialId: principal.credentialId };
  }

  private async admit(caller: Caller): Promise<void> {
    if (!this.limiter) return;
    const decision = await this.limiter.take(caller.credentialId);
    if (decision.allowed) return;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new ApiError('rate_limited', `too many requests for ${caller.who}; retry after ${seconds} s`, { 'retry-after': String(seconds) });
  }

  private async submit({ req, res, traceId, caller }: Exchange): Promise<void> {
    const body = await readJsonBody(req, BODY_LIMIT_BYTES);
    const claimed = body !== null && typeof body === 'object' ? (body as { base_id?: unknown }).base_id : undefined;
    // The tenant is the credential's: a body naming another base is refused before anything is stored.
    if (caller.tenant !== undefined && typeof claimed === 'string' && claimed !== caller.tenant) {
      throw new WardenError('tenant_mismatch', `this credential may submit only for base ${caller.tenant}, not ${claimed.slice(0, 64)}`);
    }
    const { job, duplicate } = await submitJob(this.deps, body, traceId);
    sendJson(res, 202, { id: job.id, status: job.state, duplicate }, { location: `/v1/jobs/${job.id}` });
  }

  private async list({ res, url, caller }: Exchange): Promise<void> {
    const query = parseListQuery(url.searchParams);
    let tenant = caller.tenant;
    if (tenant === undefined) {
      if (query.baseId === undefined) throw new ValidationError('invalid_query', 'base_id is required: this server runs without authentication');
      tenant = query.baseId;
    } else if (query.baseId !== undefined && query.baseId !== tenant) {
      throw new WardenError('tenant_mismatch', `this credential may list only base ${tenant}`);
    }
    const store = this.deps.checkpoints;
    if (!store.listByTenant) throw new WardenError('not_implemented', 'this job store cannot list jobs by tenant');
    const startKey = query.cursor === undefined ? undefined : this.cursors.decode(query.cursor, tenant, query.filterKey);
    if (query.emptyRange) return sendJson(res, 200, { jobs: [], next_cursor: null });
    const page = await store.listByTenant({
      tenant,
      states: query.states,
      ...(query.createdFrom !== undefined ? { createdFrom: query.createdFrom } : {}),
      ...(query.createdTo !== undefined ? { createdTo: query.createdTo } : {}),
      limit: query.limit,
      ...(startKey ? { startKey } : {}),
    });
    sendJson(res, 200, {
      jobs: page.jobs.map(jobView),
      next_cursor: page.nextKey ? this.cursors.encode(tenant, query.filterKey, page.nextKey) : null,
    });
  }

  /** The caller's job, or 404 exactly as for a job that does not exist. */
  private async ownJob(id: string, caller: Caller): Promise<JobRecord> {
    if (!JOB_ID.test(id)) throw notFound(id);
    const job = await this.deps.checkpoints.get(id);
    if (!job || (caller.tenant !== undefined && job.tenant !== caller.tenant)) throw notFound(id);
    return job;
  }

  private async status({ res, id, caller }: Exchange): Promise<void> {
    sendJson(res, 200, jobView(await this.ownJob(id, caller)));
  }

  private async result({ res, id, caller }: Exchange): Promise<void> {
    const job = await this.ownJob(id, caller);
    if (!job.result) throw new WardenError('not_found', `job ${id} has no result yet (status ${job.state})`);
    const text = await this.readResult(job, { who: caller.who, tenant: job.tenant });
    sendJson(res, 200, { id, status: job.state, text, model: job.result.model, generated_at: job.result.generated_at });
  }

  /** Cancels a job that has not started; once the LLM call is under way it is too late. */
  private async cancel({ res, id, caller }: Exchange): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const job = await this.ownJob(id, caller);
      if (job.state === 'cancelled') return sendJson(res, 200, jobView(job));
      if (job.state !== 'queued' && job.state !== 'leased') {
        throw new WardenError('too_late_to_cancel', `job ${id} is ${job.state}; only queued or leased jobs can be cancelled`);
      }
      try {
        const cancelled = await this.deps.checkpoints.transition(id, {
          event: 'cancel',
          from: job.state,
          writer: { actor: 'ingest-api' },
          reason: `cancelled by submitter (${caller.who})`,
        });
        return sendJson(res, 200, jobView(cancelled));
      } catch (error) {
        if (!(error instanceof OwnershipLostError)) throw error;
      }
    }
    throw new WardenError('too_late_to_cancel', `job ${id} kept moving; try again`);
  }

  /** A request Node could not parse: still the envelope, then close (the framing is lost). */
  private clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code] =
      error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request_header_fields_too_large'] : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout'] : [400, 'bad_request'];
    const body = JSON.stringify({ code, message: 'the request is not valid HTTP/1.1', trace_id: randomUUID() } satisfies ErrorEnvelope);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    return this.closed;
  }
}
