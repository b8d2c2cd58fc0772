import type { GenerationRequest, Priority } from './generation-request.ts';
import type { JobEvent, JobState } from './job-states.ts';

/** Where a payload lives in the object store, with the digest every read re-checks. */
export interface PayloadRef {
  key: string;
  sha256: string;
  bytes: number;
}

/** The memoized LLM answer: once stored, no owner calls the LLM for this job again. */
export interface MemoizedResult {
  text: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  generated_at: string;
}

/** One line of the audit trail, appended by the same conditional write as the transition. */
export interface AuditEntry {
  at: string;
  /** A transition event, or 'submit' for the line written with the job's creation. */
  event: JobEvent | 'submit';
  from: JobState;
  to: JobState;
  actor: string;
  token: number;
  reason?: string;
}

export interface JobError {
  code: string;
  message: string;
}

/** A job as checkpointed in the jobs table (one item per job key). */
export interface JobRecord {
  id: string;
  state: JobState;
  /** Transitions applied so far; also the job's optimistic version. */
  seq: number;
  partition: number;
  tenant: string;
  priority: Priority;
  /**
   * The request without its prompt context (that lives in the object store). When `inputs_sealed`
   * is set, `request.inputs` keeps only the field ids (values null): the values are encrypted.
   */
  request: Omit<GenerationRequest, 'context'>;
  /** The input values, sealed with the job's data key (AAD: job id and purpose). */
  inputs_sealed?: string;
  input_hash: string;
  fingerprint: string;
  context_ref?: PayloadRef;
  /** Fencing token of the last owner that wrote this job; writes with an older token are refused. */
  token: number;
  owner?: string;
  attempts: number;
  next_attempt_at?: string;
  result?: MemoizedResult;
  written_version?: string;
  error?: JobError;
  trace_id: string;
  created_at: string;
  updated_at: string;
  finished_at?: string;
  /** Epoch seconds; the table's TTL attribute (180 days of history). */
  expires_at: number;
  audit: AuditEntry[];
}

export const HISTORY_RETENTION_DAYS = 180;
