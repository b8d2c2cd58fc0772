/**
 * Side channel for seeding and "user edits" in demos, tests and chaos runs. No auth and
 * no latency: it is the harness, not a client, and it is bound to loopback.
 *
 *   GET    /__sim/stats                       counters
 *   POST   /__sim/reset        {"records"?:true}  clear counters (and records when asked)
 *   PUT    /__sim/records/{b}/{t}/{r}         {"fields":{...}} create or replace
 *   POST   /__sim/records/{b}/{t}/{r}/edit    {"fields":{...}} merge, as a user edit
 *   GET    /__sim/records/{b}/{t}/{r}         read without counting a GET
 *   DELETE /__sim/records/{b}/{t}/{r}         remove
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody, sendJson } from '../sim-llm/http-io.ts';
import { notFound, parseFieldsBody, sendRecord, storeError } from './api-routes.ts';
import type { Fields, RecordRef, SimRecord } from './record-table.ts';
import type { SimRecordStoreStats } from './store-stats.ts';

export interface AdminContext {
  stats(): SimRecordStoreStats;
  reset(opts: { records?: boolean }): void;
  putRecord(baseId: string, tableId: string, recordId: string, fields: Fields): SimRecord;
  editRecord(baseId: string, tableId: string, recordId: string, fields: Fields): SimRecord | null;
  getRecord(baseId: string, tableId: string, recordId: string): SimRecord | null;
  deleteRecord(baseId: string, tableId: string, recordId: string): boolean;
  readonly maxBodyBytes: number;
}

async function readFields(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Fields | null> {
  const body = await readJsonBody(req, limit);
  const fields = body.ok ? parseFieldsBody(body.value) : null;
  if (!fields) sendJson(res, 400, storeError('INVALID_REQUEST_BODY', 'body must be {"fields":{...}}'));
  return fields;
}

/** Handles a path under /__sim/; segments are already URL-decoded. */
export async function handleAdmin(ctx: AdminContext, req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
  const method = req.method ?? 'GET';
  const [head, b, t, r, action, ...rest] = segments;
  if (head === 'stats' && segments.length === 1 && method === 'GET') return sendJson(res, 200, ctx.stats());
  if (head === 'reset' && segments.length === 1 && method === 'POST') {
    const body = await readJsonBody(req, ctx.maxBodyBytes);
    const records = body.ok && typeof body.value === 'object' && body.value !== null && (body.value as { records?: unknown }).records === true;
    ctx.reset({ records });
    return sendJson(res, 200, { ok: true });
  }
  if (head !== 'records' || b === undefined || t === undefined || r === undefined || rest.length > 0) {
    req.resume();
    return sendJson(res, 404, storeError('NOT_FOUND', 'unknown admin route'));
  }
  const ref: RecordRef = { baseId: b, tableId: t, recordId: r };
  if (action === undefined && method === 'PUT') {
    const fields = await readFields(req, res, ctx.maxBodyBytes);
    if (fields) sendRecord(res, 200, ctx.putRecord(b, t, r, fields));
    return;
  }
  if (action === 'edit' && method === 'POST') {
    const fields = await readFields(req, res, ctx.maxBodyBytes);
    if (!fields) return;
    const record = ctx.editRecord(b, t, r, fields);
    return record ? sendRecord(res, 200, record) : notFound(res, ref);
  }
  req.resume();
  if (action === undefined && method === 'GET') {
    const record = ctx.getRecord(b, t, r);
    return record ? sendRecord(res, 200, record) : notFound(res, ref);
  }
  if (action === undefined && method === 'DELETE') {
    return ctx.deleteRecord(b, t, r) ? sendJson(res, 200, { id: r, deleted: true }) : notFound(res, ref);
  }
  sendJson(res, 405, storeError('METHOD_NOT_ALLOWED', `${method} not allowed here`));
}
