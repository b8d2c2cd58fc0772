import type { JobEvent, JobState } from '../jobs/job-states.ts';
import type { JobRecord } from '../jobs/job-record.ts';

/** Who writes a checkpoint. `token` is the partition lease's fencing token; absent for the API. */
export interface Writer {
  actor: string;
  token?: number;
}

/** Fields a transition may set alongside the state; `null` removes the attribute. */
export type JobPatch = {
  [K in 'attempts' | 'next_attempt_at' | 'result' | 'written_version' | 'error']?: JobRecord[K] | null;
};

export interface TransitionRequest {
  event: JobEvent;
  /** The state this writer saw; the write is refused if the stored state differs. */
  from: JobState;
  writer: Writer;
  reason?: string;
  patch?: JobPatch;
  /** Needed only when a terminal job re-enters the lifecycle (redrive). */
  partition?: number;
}

/** One page of a tenant's jobs: newest first (by `created_at`), filtered, resumable. */
export interface TenantJobQuery {
  tenant: string;
  /** Only jobs in one of these states; absent or empty: every state. */
  states?: readonly JobState[];
  /** Inclusive bounds on `created_at` (ISO 8601 UTC with milliseconds, as jobs store it). */
  createdFrom?: string;
  createdTo?: string;
  /** At most this many jobs (1..1000). A page may hold fewer and still have a `nextKey`. */
  limit: number;
  /** Where the previous page stopped (its `nextKey`), never built by hand. */
  startKey?: Record<string, string>;
  signal?: AbortSignal;
}

export interface TenantJobPage {
  jobs: JobRecord[];
  /** The position after the last job examined; absent when the listing is complete. */
  nextKey?: Record<string, string>;
}

export type CreateOutcome = { created: true; job: JobRecord } | { created: false; job: JobRecord };

/**
 * The durable job state machine. Every transition is one conditional write that checks the
 * expected state and the writer's fencing token and appends the audit entry in the same request.
 */
export interface CheckpointStore {
  /** Conditional put on the job key: the first writer creates, every later one gets the stored job. */
  create(job: JobRecord): Promise<CreateOutcome>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Applies one legal transition or throws OwnershipLostError (or IllegalTransitionError). */
  transition(id: string, request: TransitionRequest): Promise<JobRecord>;
  /** Jobs of one partition that are not terminal (a sparse index), oldest update first. */
  listUnfinished(partition: number, limit: number): Promise<JobRecord[]>;
  /**
   * One page of a tenant's jobs, newest first (the `by_tenant` index). Optional so that stores
   * used only by workers need not implement it; the ingest API needs it for `GET /v1/jobs`.
   */
  listByTenant?(query: TenantJobQuery): Promise<TenantJobPage>;
}
