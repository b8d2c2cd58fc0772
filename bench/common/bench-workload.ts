/**
 * The benchmark workload: distinct records, one generation request per record (no duplicates,
 * no edits: those belong to the chaos and demo runs), optionally with prompt context. The same
 * requests feed warden and BullMQ, so both render the same prompts and the simulated LLM and
 * record store see the same calls.
 */
import type { GenerationRequest, Priority } from '../../src/jobs/generation-request.ts';

export interface BenchRecord {
  base_id: string;
  table_id: string;
  record_id: string;
  fields: Record<string, string>;
}

const WORDS = 'customer renewal invoice meeting priority shipment contract feedback budget roadmap onboarding quarterly'.split(' ');

/** `count` distinct context bodies of exactly `bytes` bytes (ASCII), reused round-robin. */
export function contextPool(bytes: number, count = 16): string[] {
  return Array.from({ length: count }, (_, c) => {
    let text = `context ${c}: `;
    for (let i = 0; text.length < bytes; i += 1) text += `${WORDS[(i * 7 + c) % WORDS.length]} `;
    return text.slice(0, bytes);
  });
}

export function benchRecord(prefix: string, i: number): BenchRecord {
  return {
    base_id: `app${prefix}${i % 8}`,
    table_id: `tbl${i % 4}`,
    record_id: `rec${prefix}${String(i).padStart(7, '0')}`,
    fields: {
      fldTitle: `Account ${i}`,
      fldNotes: Array.from({ length: 12 }, (_, w) => WORDS[(i + w * 5) % WORDS.length]).join(' '),
    },
  };
}

export function benchRequest(record: BenchRecord, options: { context?: string; priority?: Priority; source?: GenerationRequest['source'] } = {}): GenerationRequest {
  return {
    base_id: record.base_id,
    table_id: record.table_id,
    record_id: record.record_id,
    field_id: 'fldSummary',
    prompt_version: 'summary-v1',
    inputs: { fldNotes: record.fields['fldNotes'] as string, fldTitle: record.fields['fldTitle'] as string },
    priority: options.priority ?? 'interactive',
    source: options.source ?? 'automation',
    ...(options.context === undefined ? {} : { context: options.context }),
  };
}
