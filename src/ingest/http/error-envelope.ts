import type { ServerResponse } from 'node:http';
import { isWardenError } from '../../errors.ts';

const STATUS_BY_CODE: Record<string, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unknown_prompt_version: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  method_not_allowed: 405,
  job_key_conflict: 409,
  too_late_to_cancel: 409,
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Every error leaves as `{code, message, trace_id}`; an unexpected one never shows its internals. */
export function sendError(res: ServerResponse, error: unknown, traceId: string): number {
  if (isWardenError(error) && STATUS_BY_CODE[error.code] !== undefined) {
    const status = STATUS_BY_CODE[error.code] as number;
    sendJson(res, status, { code: error.code, message: error.message, trace_id: traceId });
    return status;
  }
  sendJson(res, 500, { code: 'internal', message: 'internal error; quote the trace_id when reporting it', trace_id: traceId });
  return 500;
}
