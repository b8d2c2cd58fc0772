import type { JobRecord } from '../jobs/job-record.ts';
import { inputsStillCurrent } from '../jobs/record-currency.ts';
import type { RecordStore, StoredRecord } from '../runtime/record-store.ts';

export type WriteBackOutcome =
  | { kind: 'written'; version: string; alreadyThere: boolean }
  | { kind: 'superseded' }
  | { kind: 'record_gone' }
  | { kind: 'conflicts_exhausted'; conflicts: number };

/**
 * Writes the memoized result if, and only if, the record still holds the job's inputs, against
 * the version those inputs were read at (If-Match). A 412 means someone wrote in between: read
 * again and decide again. A field that already holds this exact result was written by an earlier
 * attempt (or a former owner) whose checkpoint did not land: count it as written, write nothing.
 */
export async function writeBack(
  records: RecordStore,
  job: JobRecord,
  text: string,
  known: StoredRecord | undefined,
  maxConflictRetries: number,
  signal: AbortSignal,
): Promise<WriteBackOutcome> {
  const ref = job.request;
  const inputIds = Object.keys(job.request.inputs);
  let record = known;
  let conflicts = 0;
  for (;;) {
    record ??= await records.get(ref, signal);
    if (!record) return { kind: 'record_gone' };
    if (record.fields[ref.field_id] === text) return { kind: 'written', version: record.version, alreadyThere: true };
    if (!inputsStillCurrent(inputIds, job.input_hash, record.fields)) return { kind: 'superseded' };
    const outcome = await records.patch(ref, { [ref.field_id]: text }, record.version, signal);
    if (outcome.ok) return { kind: 'written', version: outcome.version, alreadyThere: false };
    if (outcome.reason === 'not_found') return { kind: 'record_gone' };
    conflicts += 1;
    if (conflicts > maxConflictRetries) return { kind: 'conflicts_exhausted', conflicts };
    record = undefined;
  }
}
