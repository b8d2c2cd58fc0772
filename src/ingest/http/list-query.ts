import { ValidationError } from '../../errors.ts';
import { JOB_STATES, type JobState } from '../../jobs/job-states.ts';

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;
const PARAMS = new Set(['status', 'created_after', 'created_before', 'limit', 'cursor', 'base_id']);

/** `GET /v1/jobs` as the store understands it. */
export interface ListQuery {
  states: JobState[];
  /** Inclusive bounds on created_at, in the store's format (ISO 8601 UTC, milliseconds). */
  createdFrom?: string;
  createdTo?: string;
  /** The range holds no instant (created_after + 1 ms > created_before - 1 ms): nothing to query. */
  emptyRange: boolean;
  limit: number;
  cursor?: string;
  /** `base_id`: names the tenant only when the API runs without authentication. */
  baseId?: string;
  /** The filters a cursor is bound to (a cursor from another query is refused). */
  filterKey: string;
}

function invalid(message: string): ValidationError {
  return new ValidationError('invalid_query', message);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Epoch milliseconds of an ISO 8601 date or date-time with an offset (`2025-05-01`,
 * `2025-05-01T12:00Z`, `2025-05-01T12:00:00.250+02:00`); a local time without offset is refused
 * as ambiguous. Checked field by field: no rollover of 2025-02-30 into March.
 */
export function parseIsoInstant(text: string, name: string): number {
  const m = ISO.exec(text);
  if (!m) throw invalid(`${name} must be an ISO 8601 date or date-time with an offset (e.g. 2025-05-01T12:00:00Z)`);
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const offset = m[8];
  const daysInMonth = new Date(Date.UTC(year as number, month as number, 0)).getUTCDate();
  if (year! < 2000 || year! > 9999 || month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    throw invalid(`${name} is not a valid date-time between the years 2000 and 9999`);
  }
  let offsetMs = 0;
  if (offset !== undefined && offset !== 'Z') {
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(4, 6));
    if (oh > 23 || om > 59) throw invalid(`${name} has an invalid UTC offset`);
    offsetMs = (offset[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const date = new Date(0);
  date.setUTCFullYear(year as number, (month as number) - 1, day as number);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offsetMs;
}

const LOWEST = Date.UTC(2000, 0, 1);
const HIGHEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw invalid(`${name} is given more than once`);
  return values[0];
}

/** Parses and checks the query string of `GET /v1/jobs`; messages name the parameter. */
export function parseListQuery(params: URLSearchParams): ListQuery {
  for (const name of params.keys()) {
    if (!PARAMS.has(name)) throw invalid(`unknown query parameter '${name.slice(0, 64)}'; allowed: ${[...PARAMS].join(', ')}`);
  }
  const states = new Set<JobState>();
  for (const value of params.getAll('status')) {
    for (const state of value.split(',')) {
      const trimmed = state.trim();
      if (!(JOB_STATES as readonly string[]).includes(trimmed)) throw invalid(`status '${trimmed.slice(0, 64)}' is not one of ${JOB_STATES.join(', ')}`);
      states.add(trimmed as JobState);
    }
  }
  const limitText = single(params, 'limit');
  let limit = LIST_DEFAULT_LIMIT;
  if (limitText !== undefined) {
    if (!/^\d{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > LIST_MAX_LIMIT) throw invalid(`limit must be an integer in 1..${LIST_MAX_LIMIT}`);
    limit = Number(limitText);
  }
  const after = single(params, 'created_after');
  const before = single(params, 'created_before');
  // Both bounds are strict; created_at has millisecond precision, so strict becomes inclusive ±1 ms.
  const fromMs = after === undefined ? undefined : parseIsoInstant(after, 'created_after') + 1;
  const toMs = before === undefined ? undefined : parseIsoInstant(before, 'created_before') - 1;
  if (after !== undefined && before !== undefined && parseIsoInstant(after, 'created_after') >= parseIsoInstant(before, 'created_before')) {
    throw invalid('created_after must be earlier than created_before');
  }
  const clamp = (ms: number) => new Date(Math.min(HIGHEST, Math.max(LOWEST, ms))).toISOString();
  const createdFrom = fromMs === undefined ? undefined : clamp(fromMs);
  const createdTo = toMs === undefined ? undefined : clamp(toMs);
  const cursor = single(params, 'cursor');
  const baseId = single(params, 'base_id');
  if (baseId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(baseId)) throw invalid('base_id must be a base id');
  const sorted = [...states].sort();
  return {
    states: sorted,
    ...(createdFrom !== undefined ? { createdFrom } : {}),
    ...(createdTo !== undefined ? { createdTo } : {}),
    emptyRange: createdFrom !== undefined && createdTo !== undefined && createdFrom > createdTo,
    limit,
    ...(cursor !== undefined ? { cursor } : {}),
    ...(baseId !== undefined ? { baseId } : {}),
    filterKey: JSON.stringify([sorted, createdFrom ?? null, createdTo ?? null]),
  };
}
