/**
 * The record store contract of DESIGN.md §5: GET, conditional PATCH and DELETE on
 * /v0/{baseId}/{tableId}/{recordId}. Each request is processed atomically after the
 * configured latency, so concurrent writers race exactly as they would on a real store.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasBearer, readJsonBody, sendJson } from '../sim-llm/http-io.ts';
import { etagOf, ifMatchPasses, parseIfMatch } from './if-match.ts';
import type { Fields, RecordRef, RecordTable, SimRecord } from './record-table.ts';
import type { RequestCounts } from './store-stats.ts';
import type { WritebackAudit } from './writeback-audit.ts';
import type { ResolvedSimRecordStoreOptions } from './options.ts';

export interface StoreContext {
  readonly opts: ResolvedSimRecordStoreOptions;
  readonly table: RecordTable;
  readonly audit: WritebackAudit;
  counts(): RequestCounts;
  /** Waits the configured latency; false when the store closed meanwhile. */
  delay(): Promise<boolean>;
}

export const storeError = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  ({ error: { code, message }, ...extra });

export function sendRecord(res: ServerResponse, status: number, record: SimRecord): void {
  sendJson(res, status, record, { etag: etagOf(record.version) });
}

export function notFound(res: ServerResponse, ref: RecordRef): void {
  sendJson(res, 404, storeError('NOT_FOUND', `record ${ref.recordId} not found`));
}

/** `{"fields":{...}}` with a plain object; null when malformed. */
export function parseFieldsBody(value: unknown): Fields | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const fields = (value as { fields?: unknown }).fields;
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return null;
  if (Object.keys(fields).some((k) => k === '')) return null;
  return fields as Fields;
}

export async function handleRecordApi(ctx: StoreContext, req: IncomingMessage, res: ServerResponse, ref: RecordRef): Promise<void> {
  const method = req.method ?? 'GET';
  if (!hasBearer(req, ctx.opts.token)) {
    req.resume();
    return sendJson(res, 401, storeError('AUTHENTICATION_REQUIRED', 'missing or wrong bearer token'));
  }
  if (method === 'GET') return get(ctx, req, res, ref);
  if (method === 'PATCH') return patch(ctx, req, res, ref);
  if (method === 'DELETE') return remove(ctx, req, res, ref);
  req.resume();
  sendJson(res, 405, storeError('METHOD_NOT_ALLOWED', `${method} not allowed`), { allow: 'GET, PATCH, DELETE' });
}

async function get(ctx: StoreContext, req: IncomingMessage, res: ServerResponse, ref: RecordRef): Promise<void> {
  req.resume();
  ctx.counts().gets++;
  if (!(await ctx.delay())) return void res.destroy();
  const record = ctx.table.get(ref);
  if (!record) {
    ctx.counts().notFound404++;
    return notFound(res, ref);
  }
  sendRecord(res, 200, record);
}

async function patch(ctx: StoreContext, req: IncomingMessage, res: ServerResponse, ref: RecordRef): Promise<void> {
  const counts = ctx.counts();
  counts.patches++;
  const header = req.headers['if-match'];
  if (header === undefined) {
    req.resume();
    counts.preconditionRequired428++;
    return sendJson(res, 428, storeError('PRECONDITION_REQUIRED', 'PATCH requires If-Match: "<version>"'));
  }
  const cond = parseIfMatch(header);
  const body = await readJsonBody(req, ctx.opts.maxBodyBytes);
  if (!body.ok && body.reason === 'aborted') return void res.destroy();
  if (cond.kind === 'malformed') {
    return sendJson(res, 400, storeError('INVALID_IF_MATCH', 'If-Match must be * or quoted entity tags, e.g. "3"'));
  }
  const fields = body.ok ? parseFieldsBody(body.value) : null;
  if (!fields) return sendJson(res, 400, storeError('INVALID_REQUEST_BODY', 'body must be {"fields":{"<fieldId>": value}}'));
  if (!(await ctx.delay())) return void res.destroy();
  // From here on no await: the check and the write are one atomic step.
  const before = ctx.table.peekFields(ref);
  const current = ctx.table.get(ref);
  if (!before || !current) {
    counts.notFound404++;
    return notFound(res, ref);
  }
  if (!ifMatchPasses(cond, current.version)) {
    counts.conflicts412++;
    return sendJson(res, 412, storeError('PRECONDITION_FAILED', 'record version moved', { id: current.id, version: current.version }), {
      etag: etagOf(current.version),
    });
  }
  ctx.audit.record(before, fields);
  const updated = ctx.table.merge(ref, fields);
  if (!updated) return notFound(res, ref);
  counts.patchesApplied++;
  sendRecord(res, 200, updated);
}

async function remove(ctx: StoreContext, req: IncomingMessage, res: ServerResponse, ref: RecordRef): Promise<void> {
  req.resume();
  const header = req.headers['if-match'];
  const cond = header === undefined ? ({ kind: 'any' } as const) : parseIfMatch(header);
  if (cond.kind === 'malformed') return sendJson(res, 400, storeError('INVALID_IF_MATCH', 'If-Match must be * or quoted entity tags'));
  if (!(await ctx.delay())) return void res.destroy();
  const current = ctx.table.get(ref);
  if (!current) {
    ctx.counts().notFound404++;
    return notFound(res, ref);
  }
  if (!ifMatchPasses(cond, current.version)) {
    ctx.counts().conflicts412++;
    return sendJson(res, 412, storeError('PRECONDITION_FAILED', 'record version moved', { id: current.id, version: current.version }));
  }
  ctx.table.delete(ref);
  ctx.counts().deletes++;
  sendJson(res, 200, { id: ref.recordId, deleted: true });
}
