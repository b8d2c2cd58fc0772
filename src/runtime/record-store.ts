export interface RecordRef {
  base_id: string;
  table_id: string;
  record_id: string;
}

export interface StoredRecord {
  id: string;
  fields: Record<string, unknown>;
  version: string;
}

export type PatchOutcome =
  | { ok: true; version: string }
  | { ok: false; reason: 'version_moved' | 'not_found' };

/** Where results are written back: reads with a version, conditional writes on that version. */
export interface RecordStore {
  get(ref: RecordRef, signal?: AbortSignal): Promise<StoredRecord | undefined>;
  /** Writes `fields` only if the record is still at `version` (If-Match). */
  patch(ref: RecordRef, fields: Record<string, unknown>, version: string, signal?: AbortSignal): Promise<PatchOutcome>;
  close(): Promise<void>;
}
