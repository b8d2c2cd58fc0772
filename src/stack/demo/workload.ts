import type { GenerationRequest } from '../../jobs/generation-request.ts';
import { mulberry32 } from '../sim-llm/random.ts';

export interface DemoRecord {
  base_id: string;
  table_id: string;
  record_id: string;
  fields: Record<string, string>;
}

export interface Submission {
  request: GenerationRequest;
  via: 'api' | 'producer';
  /** Milliseconds after the start at which it is sent. */
  atMs: number;
  duplicate: boolean;
}

export interface Edit {
  record: DemoRecord;
  atMs: number;
  /** 'input' changes a field the jobs read (they must end superseded); 'other' one they do not. */
  kind: 'input' | 'other';
}

export interface Workload {
  records: DemoRecord[];
  submissions: Submission[];
  edits: Edit[];
}

const WORDS = 'customer renewal invoice meeting priority shipment contract feedback budget roadmap onboarding quarterly'.split(' ');

/**
 * A seeded demo workload: records, unique requests, a fifth of all submissions duplicates (some in
 * bursts, some later, through both entries), and user edits landing while jobs are in flight.
 */
export function buildWorkload(options: { total: number; seed: number; spreadMs: number }): Workload {
  const random = mulberry32(options.seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const uniqueCount = Math.ceil(options.total * 0.8);
  const records: DemoRecord[] = [];
  const submissions: Submission[] = [];
  for (let i = 0; records.length * 1.2 < uniqueCount; i += 1) {
    records.push({
      base_id: `appDemo${i % 3}`,
      table_id: `tbl${i % 5}`,
      record_id: `rec${String(i).padStart(5, '0')}`,
      fields: { fldTitle: `Account ${i}`, fldNotes: sentence(12), fldOwner: `owner-${i % 17}` },
    });
  }
  for (let i = 0; submissions.length < uniqueCount; i += 1) {
    const record = records[i % records.length] as DemoRecord;
    const followup = i >= records.length;
    const request: GenerationRequest = {
      base_id: record.base_id,
      table_id: record.table_id,
      record_id: record.record_id,
      field_id: followup ? 'fldFollowup' : 'fldSummary',
      prompt_version: followup ? 'followup-v1' : 'summary-v1',
      inputs: followup
        ? { fldNotes: record.fields['fldNotes'] as string, fldOwner: record.fields['fldOwner'] as string }
        : { fldNotes: record.fields['fldNotes'] as string, fldTitle: record.fields['fldTitle'] as string },
      priority: random() < 0.3 ? 'bulk' : 'interactive',
      source: pick(['automation', 'interface', 'api'] as const),
      ...(random() < 0.3 ? { context: sentence(200 + Math.floor(random() * 2000)) } : {}),
    };
    submissions.push({ request, via: random() < 0.2 ? 'producer' : 'api', atMs: Math.floor(random() * options.spreadMs), duplicate: false });
  }
  while (submissions.length < options.total) {
    const original = pick(submissions.filter((s) => !s.duplicate));
    // Half replay at once (a webhook burst), half later (a retry after a timeout).
    const later = random() < 0.5;
    submissions.push({
      request: original.request,
      via: random() < 0.5 ? 'api' : 'producer',
      atMs: later ? original.atMs + 500 + Math.floor(random() * options.spreadMs) : original.atMs,
      duplicate: true,
    });
  }
  const edits: Edit[] = [];
  const shuffled = [...records].sort(() => random() - 0.5);
  for (const record of shuffled.slice(0, Math.ceil(records.length * 0.08))) {
    edits.push({ record, atMs: Math.floor(random() * options.spreadMs) + 200, kind: 'input' });
  }
  for (const record of shuffled.slice(Math.ceil(records.length * 0.08), Math.ceil(records.length * 0.14))) {
    edits.push({ record, atMs: Math.floor(random() * options.spreadMs) + 200, kind: 'other' });
  }
  submissions.sort((a, b) => a.atMs - b.atMs);
  return { records, submissions, edits };
}
