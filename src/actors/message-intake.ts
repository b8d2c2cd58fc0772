import { JobConflictError, ValidationError } from '../errors.ts';
import { parseGenerationRequest } from '../jobs/generation-request.ts';
import { parseJobMessage, type JobMessage } from '../jobs/job-message.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import { newJobRecord } from '../jobs/new-job.ts';
import { jobKey, payloadFingerprint } from '../jobs/job-key.ts';
import type { CheckpointStore } from '../runtime/checkpoint-store.ts';
import type { Clock } from '../runtime/clock.ts';
import { METRIC, type Metrics } from '../runtime/metrics.ts';

export interface IntakeDeps {
  checkpoints: CheckpointStore;
  clock: Clock;
  metrics: Metrics;
  partitions: number;
  promptExists: (version: string) => boolean;
}

/**
 * Turns a received message into the job it points at. A message from the producer library
 * carries its request: the job is created here with the same conditional put the HTTP API uses,
 * so both entries deduplicate alike. Anything malformed is a ValidationError: a poison message.
 */
export async function jobForMessage(deps: IntakeDeps, body: string): Promise<{ message: JobMessage; job: JobRecord }> {
  const message = parseJobMessage(body);
  const existing = await deps.checkpoints.get(message.job_id);
  if (existing) {
    if (message.submit) deps.metrics.count(METRIC.deduplicated);
    if (message.submit && existing.fingerprint !== fingerprintOf(message)) throw poison(new JobConflictError(message.job_id));
    return { message, job: existing };
  }
  if (!message.submit) throw new ValidationError('unknown_job', `message points at job ${message.job_id}, which does not exist`);
  const request = submittedRequest(message);
  if (!deps.promptExists(request.prompt_version)) {
    throw new ValidationError('unknown_prompt_version', `prompt_version '${request.prompt_version}' has no template`);
  }
  const candidate = newJobRecord({
    request,
    contextRef: message.submit.context_ref,
    partitions: deps.partitions,
    traceId: message.trace_id,
    submittedBy: 'producer',
    now: deps.clock.now(),
  });
  // The context itself is in S3: the fingerprint covers it through the producer's digest.
  candidate.fingerprint = fingerprintOf(message);
  const outcome = await deps.checkpoints.create(candidate);
  deps.metrics.count(outcome.created ? METRIC.submitted : METRIC.deduplicated);
  if (!outcome.created && outcome.job.fingerprint !== candidate.fingerprint) throw poison(new JobConflictError(message.job_id));
  return { message, job: outcome.job };
}

function submittedRequest(message: JobMessage) {
  const submit = message.submit!;
  let request;
  try {
    request = parseGenerationRequest(submit.request);
  } catch (error) {
    throw new ValidationError('poison_message', `submitted request is invalid: ${(error as Error).message}`);
  }
  if (jobKey(request) !== message.job_id) throw new ValidationError('poison_message', 'job_id does not match the request');
  return request;
}

/** A producer-submitted job's fingerprint covers the context by its digest (the bytes are in S3). */
export function fingerprintOf(message: JobMessage): string {
  const submit = message.submit!;
  return payloadFingerprint(submit.context_ref?.sha256, submit.request.output);
}

function poison(error: JobConflictError): ValidationError {
  return new ValidationError(error.code, error.message);
}
