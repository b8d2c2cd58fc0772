import { JobConflictError, ValidationError } from '../errors.ts';
import { parseGenerationRequest } from '../jobs/generation-request.ts';
import { parseJobMessage, type JobMessage } from '../jobs/job-message.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import { newJobRecord } from '../jobs/new-job.ts';
import { jobKey, payloadFingerprint } from '../jobs/job-key.ts';
import type { CheckpointStore } from '../runtime/checkpoint-store.ts';
import type { Clock } from '../runtime/clock.ts';
import { METRIC, type Metrics } from '../runtime/metrics.ts';
import { withheldInputs } from '../runtime/crypto/job-sealing.ts';
import { payloadAad, type PayloadCipher } from '../runtime/crypto/payload-cipher.ts';

export interface IntakeDeps {
  checkpoints: CheckpointStore;
  clock: Clock;
  metrics: Metrics;
  partitions: number;
  promptExists: (version: string) => boolean;
  /** Opens the producer's sealed input values (needed to check the job key). */
  cipher: PayloadCipher;
}

/**
 * Turns a received message into the job it points at. A message from the producer library
 * carries its request: the job is created here with the same conditional put the HTTP API uses,
 * so both entries deduplicate alike. Anything malformed is a ValidationError: a poison message.
 */
export async function jobForMessage(deps: IntakeDeps, body: string | JobMessage): Promise<{ message: JobMessage; job: JobRecord }> {
  const message = typeof body === 'string' ? parseJobMessage(body) : body;
  const existing = await deps.checkpoints.get(message.job_id);
  if (existing) {
    if (message.submit) deps.metrics.count(METRIC.deduplicated);
    if (message.submit && existing.fingerprint !== fingerprintOf(message)) throw poison(new JobConflictError(message.job_id));
    return { message, job: existing };
  }
  if (!message.submit) throw new ValidationError('unknown_job', `message points at job ${message.job_id}, which does not exist`);
  const request = await submittedRequest(deps.cipher, message);
  if (!deps.promptExists(request.prompt_version)) {
    throw new ValidationError('unknown_prompt_version', `prompt_version '${request.prompt_version}' has no template`);
  }
  const plain = newJobRecord({
    request,
    contextRef: message.submit.context_ref,
    partitions: deps.partitions,
    traceId: message.trace_id,
    submittedBy: 'producer',
    now: deps.clock.now(),
  });
  // The job item keeps the producer's sealed inputs, never their values; the context itself is in
  // S3 and the fingerprint covers it through the producer's digest of the plaintext.
  const candidate: JobRecord = {
    ...plain,
    request: { ...plain.request, inputs: withheldInputs(request.inputs) },
    inputs_sealed: message.submit.inputs_sealed as string,
    fingerprint: fingerprintOf(message),
  };
  const outcome = await deps.checkpoints.create(candidate);
  deps.metrics.count(outcome.created ? METRIC.submitted : METRIC.deduplicated);
  if (!outcome.created && outcome.job.fingerprint !== candidate.fingerprint) throw poison(new JobConflictError(message.job_id));
  return { message, job: outcome.job };
}

async function submittedRequest(cipher: PayloadCipher, message: JobMessage) {
  const submit = message.submit!;
  if (!submit.inputs_sealed) throw new ValidationError('poison_message', 'submit.inputs_sealed is missing: producers seal input values');
  let inputs: unknown;
  try {
    inputs = JSON.parse(await cipher.openText(submit.inputs_sealed, payloadAad(message.job_id, 'request')));
  } catch {
    throw new ValidationError('poison_message', 'submit.inputs_sealed does not open for this job');
  }
  let request;
  try {
    request = parseGenerationRequest({ ...submit.request, inputs });
  } catch (error) {
    throw new ValidationError('poison_message', `submitted request is invalid: ${(error as Error).message}`);
  }
  if (jobKey(request) !== message.job_id) throw new ValidationError('poison_message', 'job_id does not match the request');
  return request;
}

/** A producer-submitted job's fingerprint covers the context by its digest (the bytes are in S3). */
export function fingerprintOf(message: JobMessage): string {
  const submit = message.submit!;
  return payloadFingerprint(submit.context_sha256, submit.request.output);
}

function poison(error: JobConflictError): ValidationError {
  return new ValidationError(error.code, error.message);
}
