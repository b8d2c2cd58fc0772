import { randomUUID } from 'node:crypto';
import { JobConflictError, ValidationError } from '../errors.ts';
import { parseGenerationRequest } from '../jobs/generation-request.ts';
import type { JobMessage } from '../jobs/job-message.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import { contextKey, identify, newJobRecord } from '../jobs/new-job.ts';
import type { CheckpointStore } from '../runtime/checkpoint-store.ts';
import type { Clock } from '../runtime/clock.ts';
import type { PartitionQueue } from '../runtime/job-queue.ts';
import { METRIC, type Metrics } from '../runtime/metrics.ts';
import type { PayloadStore } from '../runtime/payload-store.ts';
import { sealInputs, withheldInputs } from '../runtime/crypto/job-sealing.ts';
import type { PayloadCipher } from '../runtime/crypto/payload-cipher.ts';

export interface SubmitDeps {
  checkpoints: CheckpointStore;
  payloads: PayloadStore;
  queueFor: (partition: number) => PartitionQueue;
  promptExists: (version: string) => boolean;
  partitions: number;
  clock: Clock;
  metrics: Metrics;
  /** Seals the input values: no payload is stored in plaintext. */
  cipher: PayloadCipher;
  /** A queued job untouched for this long is re-sent on a duplicate submission (its first send may have failed). */
  resendAfterMs: number;
}

export interface SubmitOutcome {
  job: JobRecord;
  duplicate: boolean;
}

/**
 * The one submission path of the HTTP API: validate, store the context by claim check, create
 * the job with a conditional put on its key, then enqueue a pointer to it. The put comes before
 * the send so no message can point at nothing; a send that fails leaves a queued job that the
 * submitter's retry re-sends.
 */
export async function submitJob(deps: SubmitDeps, input: unknown, traceId: string = randomUUID()): Promise<SubmitOutcome> {
  const request = parseGenerationRequest(input);
  if (!deps.promptExists(request.prompt_version)) {
    throw new ValidationError('unknown_prompt_version', `prompt_version '${request.prompt_version}' has no template`);
  }
  const { id, fingerprint } = identify(request, deps.partitions);
  const contextRef =
    request.context === undefined
      ? undefined
      : await deps.payloads.put(contextKey(id, fingerprint), Buffer.from(request.context, 'utf8'));
  const now = deps.clock.now();
  const plain = newJobRecord({ request, contextRef, partitions: deps.partitions, traceId, submittedBy: 'ingest-api', now });
  const candidate: JobRecord = {
    ...plain,
    request: { ...plain.request, inputs: withheldInputs(request.inputs) },
    inputs_sealed: await sealInputs(deps.cipher, id, request.inputs),
  };
  const outcome = await deps.checkpoints.create(candidate);
  deps.metrics.count(outcome.created ? METRIC.submitted : METRIC.deduplicated);
  if (!outcome.created) {
    if (outcome.job.fingerprint !== fingerprint) throw new JobConflictError(id);
    const stale = now.getTime() - Date.parse(outcome.job.updated_at) > deps.resendAfterMs;
    if (outcome.job.state === 'queued' && outcome.job.seq === 0 && stale) await enqueue(deps, outcome.job);
    return { job: outcome.job, duplicate: true };
  }
  await enqueue(deps, outcome.job);
  return { job: outcome.job, duplicate: false };
}

async function enqueue(deps: SubmitDeps, job: JobRecord): Promise<void> {
  const message: JobMessage = { v: 1, job_id: job.id, trace_id: job.trace_id, ...(job.priority === 'bulk' ? { priority: 'bulk' as const } : {}) };
  await deps.queueFor(job.partition).send(JSON.stringify(message));
}
