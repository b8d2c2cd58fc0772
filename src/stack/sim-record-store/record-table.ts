/**
 * The records, in memory. Versions come from one store-wide counter so a record that is
 * deleted and recreated never reuses a version a stale writer might still hold.
 */

export type Fields = Record<string, unknown>;

export interface SimRecord {
  id: string;
  fields: Fields;
  version: string;
}

export interface RecordRef {
  baseId: string;
  tableId: string;
  recordId: string;
}

const keyOf = (ref: RecordRef) => `${ref.baseId}\u0000${ref.tableId}\u0000${ref.recordId}`;

export class RecordTable {
  private readonly rows = new Map<string, SimRecord>();
  private versionCounter = 0;

  get size(): number {
    return this.rows.size;
  }

  /** A copy, so callers can never mutate stored state behind the version counter. */
  get(ref: RecordRef): SimRecord | null {
    const row = this.rows.get(keyOf(ref));
    return row ? structuredClone(row) : null;
  }

  /** The stored fields, read-only, for checks that must see the values before a write. */
  peekFields(ref: RecordRef): Readonly<Fields> | null {
    return this.rows.get(keyOf(ref))?.fields ?? null;
  }

  put(ref: RecordRef, fields: Fields): { record: SimRecord; created: boolean } {
    const key = keyOf(ref);
    const created = !this.rows.has(key);
    const row: SimRecord = { id: ref.recordId, fields: structuredClone(fields), version: this.nextVersion() };
    this.rows.set(key, row);
    return { record: structuredClone(row), created };
  }

  /** Merges fields and bumps the version; null when the record is absent. */
  merge(ref: RecordRef, fields: Fields): SimRecord | null {
    const row = this.rows.get(keyOf(ref));
    if (!row) return null;
    Object.assign(row.fields, structuredClone(fields));
    row.version = this.nextVersion();
    return structuredClone(row);
  }

  delete(ref: RecordRef): boolean {
    return this.rows.delete(keyOf(ref));
  }

  clear(): void {
    this.rows.clear();
  }

  private nextVersion(): string {
    this.versionCounter += 1;
    return String(this.versionCounter);
  }
}
