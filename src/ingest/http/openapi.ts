import { generationRequestSchema } from '../../jobs/generation-request.ts';
import { JOB_STATES } from '../../jobs/job-states.ts';
import { STATUS_BY_CODE } from './error-envelope.ts';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT } from './list-query.ts';

/**
 * The OpenAPI 3.1 document of the ingest API, built from the code it describes (the one request
 * schema, the job states, the error-code table), so it cannot drift. `openapi/warden-ingest.json`
 * is this document, committed (regenerate: `node --import tsx openapi/generate.ts`); a test keeps
 * the two equal, and the API tests validate every response body against it.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

const REASONS: Record<number, string> = {
  200: 'OK',
  202: 'Accepted',
  400: 'Bad request: malformed JSON, a request that fails the schema, bad query parameters or cursor',
  401: 'Missing or invalid credential (see WWW-Authenticate)',
  403: 'The credential\'s tenant may not act for this base',
  404: 'No such job for this tenant (another tenant\'s job looks exactly like a missing one)',
  405: 'Method not allowed on this path (see Allow)',
  409: 'Conflict with the job\'s current state or key',
  413: 'Body over the limit',
  415: 'Body is not application/json',
  429: 'Rate limit of this credential exceeded (see Retry-After)',
  500: 'Internal error (quote the trace_id)',
  503: 'Credential verification unavailable (e.g. JWKS endpoint); retry',
};

/** The error codes that leave with `status`, from the one table in error-envelope.ts. */
export function codesFor(status: number): string[] {
  return Object.entries(STATUS_BY_CODE)
    .filter(([, s]) => s === status)
    .map(([code]) => code)
    .sort();
}

function errorResponse(status: number) {
  const headers: Record<string, unknown> = { 'X-Trace-Id': { $ref: '#/components/headers/TraceId' } };
  if (status === 401) headers['WWW-Authenticate'] = { $ref: '#/components/headers/WwwAuthenticate' };
  if (status === 429) headers['Retry-After'] = { $ref: '#/components/headers/RetryAfter' };
  if (status === 405) headers['Allow'] = { $ref: '#/components/headers/Allow' };
  return {
    description: REASONS[status] ?? 'Error',
    headers,
    content: json({ allOf: [ref('ErrorEnvelope'), { properties: { code: { enum: codesFor(status) } } }] }),
  };
}

function responses(ok: Record<string, unknown>, errors: number[]) {
  const out: Record<string, unknown> = { ...ok };
  for (const status of errors) out[String(status)] = errorResponse(status);
  // Anything not listed (405 on this path, 5xx) still carries the envelope.
  out['default'] = { description: 'Any other error, in the error envelope', content: json(ref('ErrorEnvelope')) };
  return out;
}

/** Errors every authenticated operation may answer. */
const AUTHED = [401, 429, 503];

const jobIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The job id (the job key: 64 lowercase hex digits).',
  schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
};

const statusList = `^(${JOB_STATES.join('|')})(,(${JOB_STATES.join('|')}))*$`;

function schemas() {
  const { $id: _id, ...request } = generationRequestSchema;
  const nullableString = { type: ['string', 'null'] };
  return {
    GenerationRequest: { ...request, description: 'One generation request (the schema every entry validates against).' },
    ErrorEnvelope: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message', 'trace_id'],
      properties: {
        code: { type: 'string', enum: Object.keys(STATUS_BY_CODE).sort(), description: 'Stable error code.' },
        message: { type: 'string', description: 'For people; may change.' },
        trace_id: { type: 'string', description: 'Quote it when reporting a problem (also in X-Trace-Id).' },
      },
    },
    JobStatus: { type: 'string', enum: [...JOB_STATES] },
    JobError: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    JobView: {
      type: 'object',
      additionalProperties: false,
      required: [
        'id', 'status', 'base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'priority', 'attempts',
        'created_at', 'updated_at', 'finished_at', 'next_attempt_at', 'result_ref', 'written_version', 'error',
      ],
      properties: {
        id: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        status: ref('JobStatus'),
        base_id: { type: 'string' },
        table_id: { type: 'string' },
        record_id: { type: 'string' },
        field_id: { type: 'string' },
        prompt_version: { type: 'string' },
        priority: { enum: ['interactive', 'bulk'] },
        attempts: { type: 'integer', minimum: 0 },
        created_at: { type: 'string', format: 'date-time' },
        updated_at: { type: 'string', format: 'date-time' },
        finished_at: { type: ['string', 'null'], format: 'date-time' },
        next_attempt_at: { type: ['string', 'null'], format: 'date-time' },
        result_ref: { ...nullableString, description: 'Where the result is, once there is one.' },
        written_version: nullableString,
        error: { oneOf: [{ type: 'null' }, ref('JobError')] },
      },
    },
    SubmitAccepted: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'status', 'duplicate'],
      properties: {
        id: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        status: ref('JobStatus'),
        duplicate: { type: 'boolean', description: 'True when this exact request was submitted before (the earlier job is returned).' },
      },
    },
    JobList: {
      type: 'object',
      additionalProperties: false,
      required: ['jobs', 'next_cursor'],
      properties: {
        jobs: { type: 'array', maxItems: LIST_MAX_LIMIT, items: ref('JobView') },
        next_cursor: { ...nullableString, description: 'Pass as `cursor` for the next page; null when there is none. A page may be short and still have one.' },
      },
    },
    JobResult: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'status', 'text', 'model', 'generated_at'],
      properties: {
        id: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        status: ref('JobStatus'),
        text: { type: 'string' },
        model: { type: 'string' },
        generated_at: { type: 'string', format: 'date-time' },
      },
    },
    Health: { type: 'object', additionalProperties: false, required: ['ok'], properties: { ok: { const: true } } },
  };
}

export function buildOpenApiDocument() {
  const traced = { 'X-Trace-Id': { $ref: '#/components/headers/TraceId' } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'warden ingest API',
      version: '1.0.0',
      description:
        'Submit AI generation jobs, follow them, list them, cancel them and read their results. Every request but /healthz and ' +
        '/openapi.json needs `Authorization: Bearer <API key or JWT>`; the tenant (base id) comes from the credential. A tenant ' +
        'sees only its own jobs: another tenant\'s job id answers 404 like a missing one. Every error is `{code, message, trace_id}`.',
    },
    security: [{ bearerAuth: [] }],
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          security: [],
          responses: responses({ '200': { description: 'Up', content: json(ref('Health')) } }, []),
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: responses({ '200': { description: 'The OpenAPI document', content: json({ type: 'object', required: ['openapi', 'paths'] }) } }, []),
        },
      },
      '/v1/jobs': {
        post: {
          operationId: 'submitJob',
          summary: 'Submit a generation request',
          description:
            'Idempotent on the job key (record, field, prompt version, inputs): the same request again answers 202 with duplicate: true; ' +
            'the same key with another payload answers 409. `base_id` must be the credential\'s tenant (else 403 tenant_mismatch).',
          requestBody: { required: true, content: json(ref('GenerationRequest')) },
          responses: responses(
            {
              '202': {
                description: REASONS[202],
                headers: { ...traced, Location: { description: 'The job\'s URL', schema: { type: 'string' } } },
                content: json(ref('SubmitAccepted')),
              },
            },
            [400, ...AUTHED, 403, 409, 413, 415],
          ),
        },
        get: {
          operationId: 'listJobs',
          summary: 'List the caller\'s jobs, newest first',
          parameters: [
            { name: 'status', in: 'query', description: 'Only these statuses, comma separated (the parameter may also repeat).', schema: { type: 'string', pattern: statusList } },
            { name: 'created_after', in: 'query', description: 'Created strictly after this ISO 8601 instant (date, or date-time with an offset).', schema: { type: 'string' } },
            { name: 'created_before', in: 'query', description: 'Created strictly before this ISO 8601 instant.', schema: { type: 'string' } },
            { name: 'limit', in: 'query', description: 'Page size.', schema: { type: 'integer', minimum: 1, maximum: LIST_MAX_LIMIT, default: LIST_DEFAULT_LIMIT } },
            { name: 'cursor', in: 'query', description: 'next_cursor of the previous page, with the same filters. Opaque and signed: good only for the tenant that received it.', schema: { type: 'string' } },
            { name: 'base_id', in: 'query', description: 'The tenant, when the server runs without authentication (local demo); otherwise optional and must be the credential\'s tenant.', schema: { type: 'string' } },
          ],
          responses: responses({ '200': { description: REASONS[200], headers: traced, content: json(ref('JobList')) } }, [400, ...AUTHED, 403]),
        },
      },
      '/v1/jobs/{id}': {
        parameters: [jobIdParam],
        get: {
          operationId: 'getJob',
          summary: 'A job\'s status',
          responses: responses({ '200': { description: REASONS[200], headers: traced, content: json(ref('JobView')) } }, [...AUTHED, 404]),
        },
        delete: {
          operationId: 'cancelJob',
          summary: 'Cancel a job that has not started',
          description: 'A queued or leased job becomes cancelled (200, also when it already was). Once running, it is too late: 409 too_late_to_cancel names the current status.',
          responses: responses({ '200': { description: 'Cancelled', headers: traced, content: json(ref('JobView')) } }, [...AUTHED, 404, 409]),
        },
      },
      '/v1/jobs/{id}/result': {
        parameters: [jobIdParam],
        get: {
          operationId: 'getJobResult',
          summary: 'A job\'s generated text',
          description: 'Every read is recorded in the access log. 404 while there is no result yet.',
          responses: responses({ '200': { description: REASONS[200], headers: traced, content: json(ref('JobResult')) } }, [...AUTHED, 404]),
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key, or a JWT signed by the configured issuer with claims sub, tenant (the base id) and exp.',
        },
      },
      headers: {
        TraceId: { description: 'The request\'s trace id (the caller\'s X-Trace-Id if valid, else a new one).', schema: { type: 'string' } },
        WwwAuthenticate: { description: 'Bearer challenge (RFC 6750).', schema: { type: 'string' } },
        RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
        Allow: { description: 'The methods this path allows.', schema: { type: 'string' } },
      },
      schemas: schemas(),
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

/** The committed file's exact text. */
export function openApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
