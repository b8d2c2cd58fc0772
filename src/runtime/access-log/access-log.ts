import { ValidationError } from '../../errors.ts';

/** Why a payload was read. */
export const ACCESS_PURPOSES = ['render_prompt', 'api_result', 'operator_inspect', 'write_back'] as const;
export type AccessPurpose = (typeof ACCESS_PURPOSES)[number];

/** One read of a job's payload (prompt context, prompt inputs or result). */
export interface AccessEntry {
  /** The reader: `worker:<member>`, `api-key:<key id>`, `operator:<user>`... never a secret. */
  who: string;
  /** The tenant (base id) the payload belongs to. */
  tenant: string;
  jobId: string;
  purpose: AccessPurpose;
  /** ISO 8601 (UTC, milliseconds), from the caller's clock. */
  at: string;
}

/** What `append` takes: `at` may be the clock's Date. */
export type AccessRecord = Omit<AccessEntry, 'at'> & { at: Date | string };

/**
 * The access log port: append-only (no update, no delete) and queryable per job, in time order.
 * Every payload read appends one entry before the payload is used.
 */
export interface AccessLog {
  append(record: AccessRecord, signal?: AbortSignal): Promise<void>;
  /** Entries of one job, oldest first; at most `limit` (default 1000). */
  listForJob(jobId: string, options?: { limit?: number; signal?: AbortSignal }): Promise<AccessEntry[]>;
}

const MAX_FIELD = 256;

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD) {
    throw new ValidationError('invalid_access_entry', `access entry ${field} must be a string of 1..${MAX_FIELD} characters`);
  }
  return value;
}

/** Checks and normalizes an entry; a bad one is a programming error worth failing loudly on. */
export function checkAccessRecord(record: AccessRecord): AccessEntry {
  if (record === null || typeof record !== 'object') throw new ValidationError('invalid_access_entry', 'access entry must be an object');
  const purpose = record.purpose;
  if (!(ACCESS_PURPOSES as readonly string[]).includes(purpose as string)) {
    throw new ValidationError('invalid_access_entry', `access entry purpose must be one of ${ACCESS_PURPOSES.join(', ')}`);
  }
  const time = record.at instanceof Date ? record.at : typeof record.at === 'string' ? new Date(record.at) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime()) || time.getUTCFullYear() < 2000 || time.getUTCFullYear() > 9999) {
    throw new ValidationError('invalid_access_entry', 'access entry at must be a valid time');
  }
  return {
    who: text(record.who, 'who'),
    tenant: text(record.tenant, 'tenant'),
    jobId: text(record.jobId, 'jobId'),
    purpose,
    // toISOString is fixed-width for years 2000..9999, so entries sort by time as strings.
    at: time.toISOString(),
  };
}

export function checkJobId(jobId: unknown): string {
  return text(jobId, 'jobId');
}

export function checkListLimit(limit: unknown): number {
  const value = limit ?? 1000;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100_000) {
    throw new ValidationError('invalid_access_query', 'limit must be an integer in 1..100000');
  }
  return value;
}
