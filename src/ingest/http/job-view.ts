import type { JobRecord } from '../../jobs/job-record.ts';

/** The public face of a job: status, times, attempts, and where the result is once there is one. */
export function jobView(job: JobRecord) {
  return {
    id: job.id,
    status: job.state,
    base_id: job.request.base_id,
    table_id: job.request.table_id,
    record_id: job.request.record_id,
    field_id: job.request.field_id,
    prompt_version: job.request.prompt_version,
    priority: job.priority,
    attempts: job.attempts,
    created_at: job.created_at,
    updated_at: job.updated_at,
    finished_at: job.finished_at ?? null,
    next_attempt_at: job.next_attempt_at ?? null,
    result_ref: job.result ? `/v1/jobs/${job.id}/result` : null,
    written_version: job.written_version ?? null,
    error: job.error ?? null,
  };
}
