import type { SimLlmStats } from '../sim-llm/index.ts';
import type { SimRecordStoreStats } from '../sim-record-store/index.ts';
import type { JobTracker } from './job-tracker.ts';
import { percentile } from '../percentile.ts';


/**
 * The demo's verdict. Exactly-once counts come from the simulated LLM and record store, which
 * detect repeats and stale writes on their own; the runtime's view of itself is not used.
 */
export function demoReport(args: { submitted: number; tracker: JobTracker; llm: SimLlmStats; records: SimRecordStoreStats; elapsedMs: number }) {
  const jobs = [...args.tracker.jobs.values()];
  const count = (status: string) => jobs.filter((job) => job.status === status).length;
  const freshness = jobs
    .filter((job) => job.status === 'succeeded' && job.finishedAt !== undefined)
    .map((job) => (job.finishedAt as number) - job.firstSubmittedAt)
    .sort((a, b) => a - b);
  return {
    submitted: args.submitted,
    unique: jobs.length,
    succeeded: count('succeeded'),
    superseded: count('superseded'),
    failed: count('failed'),
    dead_lettered: count('dead_lettered'),
    unfinished: jobs.filter((job) => job.finishedAt === undefined).length,
    llm_calls: args.llm.calls,
    llm_completions: args.llm.completed,
    writebacks: args.records.writebacks,
    duplicate_llm_calls: args.llm.duplicateCompletions,
    llm_retries_after_faults: args.llm.duplicateCalls - args.llm.duplicateCompletions,
    duplicate_writebacks: args.records.duplicateWritebacks,
    stale_writebacks: args.records.staleWritebacks,
    writeback_conflicts: args.records.conflicts412,
    p50_ms: percentile(freshness, 50),
    p95_ms: percentile(freshness, 95),
    elapsed_ms: Math.round(args.elapsedMs),
  };
}

export type DemoReport = ReturnType<typeof demoReport>;

export function formatReport(report: DemoReport): string {
  const rows: Array<[string, string | number]> = [
    ['submissions (incl. duplicates)', report.submitted],
    ['distinct jobs', report.unique],
    ['  succeeded', report.succeeded],
    ['  superseded (record changed)', report.superseded],
    ['  failed', report.failed],
    ['  dead-lettered', report.dead_lettered],
    ['  still unfinished', report.unfinished],
    ['LLM calls received (simulator)', report.llm_calls],
    ['  retried after a fault', report.llm_retries_after_faults],
    ['  paid twice (duplicate completions)', report.duplicate_llm_calls],
    ['write-backs landed (record store)', report.writebacks],
    ['  duplicate write-backs', report.duplicate_writebacks],
    ['  stale write-backs', report.stale_writebacks],
    ['  412 conflicts met and resolved', report.writeback_conflicts],
    ['freshness P50 / P95 (submit → written)', `${report.p50_ms} ms / ${report.p95_ms} ms`],
    ['elapsed', `${(report.elapsed_ms / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}
