import type { ServerResponse } from 'node:http';
import { isWardenError } from '../../errors.ts';

/** Every error code the API answers with, and its status: the one table (docs/architecture.md). */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  bad_request: 400,
  invalid_json: 400,
  invalid_request: 400,
  invalid_query: 400,
  invalid_cursor: 400,
  unknown_prompt_version: 400,
  unauthorized: 401,
  tenant_mismatch: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  job_key_conflict: 409,
  too_late_to_cancel: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  request_header_fields_too_large: 431,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  auth_unavailable: 503,
};

/** The body of every error response. */
export interface ErrorEnvelope {
  code: string;
  message: string;
  trace_id: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Headers an error asks for (`WWW-Authenticate`, `Retry-After`, `Allow`), if it carries any. */
function headersOf(error: unknown): Record<string, string> {
  const headers = (error as { headers?: unknown } | null)?.headers;
  if (headers === null || typeof headers !== 'object') return {};
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Every error leaves as `{code, message, trace_id}`; an unexpected one never shows its internals. */
export function sendError(res: ServerResponse, error: unknown, traceId: string): number {
  if (isWardenError(error) && STATUS_BY_CODE[error.code] !== undefined && error.code !== 'internal') {
    const status = STATUS_BY_CODE[error.code] as number;
    sendJson(res, status, { code: error.code, message: error.message, trace_id: traceId } satisfies ErrorEnvelope, headersOf(error));
    return status;
  }
  sendJson(res, 500, { code: 'internal', message: 'internal error; quote the trace_id when reporting it', trace_id: traceId } satisfies ErrorEnvelope);
  return 500;
}
