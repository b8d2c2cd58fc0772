import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { parseGenerationRequest } from '../jobs/generation-request.ts';
import type { JobMessage } from '../jobs/job-message.ts';
import { contextKey, identify } from '../jobs/new-job.ts';
import type { PartitionQueue } from '../runtime/job-queue.ts';
import type { PayloadStore } from '../runtime/payload-store.ts';
import { contextDigest } from '../jobs/job-key.ts';
import { sealInputs, withheldInputs } from '../runtime/crypto/job-sealing.ts';
import type { PayloadCipher } from '../runtime/crypto/payload-cipher.ts';

export interface ProducerDeps {
  payloads: PayloadStore;
  queueFor: (partition: number) => PartitionQueue;
  partitions: number;
  /** Seals the input values (the context is sealed by the encrypted payload store). */
  cipher: PayloadCipher;
  /** Refuse unknown prompt versions before sending, when the producer knows the catalog. */
  promptExists?: (version: string) => boolean;
}

export interface ProducedJob {
  job_id: string;
  partition: number;
  trace_id: string;
}

/**
 * The producer library: product surfaces submit over SQS without DynamoDB access. It validates
 * with the same schema, stores the context by claim check and sends the request to the job's
 * partition queue; the partition actor creates the job with the API's conditional put, so a
 * request sent twice (or sent here and to the API) is still one job. The job id is known at once.
 */
export class WardenProducer {
  constructor(private readonly deps: ProducerDeps) {}

  async submit(input: unknown, options: { traceId?: string; signal?: AbortSignal } = {}): Promise<ProducedJob> {
    const request = parseGenerationRequest(input);
    if (this.deps.promptExists && !this.deps.promptExists(request.prompt_version)) {
      throw new ValidationError('unknown_prompt_version', `prompt_version '${request.prompt_version}' has no template`);
    }
    const { id, fingerprint, partition } = identify(request, this.deps.partitions);
    const { context, ...metadata } = request;
    const contextRef =
      context === undefined ? undefined : await this.deps.payloads.put(contextKey(id, fingerprint), Buffer.from(context, 'utf8'), options.signal);
    const traceId = options.traceId ?? randomUUID();
    const message: JobMessage = {
      v: 1,
      job_id: id,
      trace_id: traceId,
      submit: {
        request: { ...metadata, inputs: withheldInputs(metadata.inputs) },
        inputs_sealed: await sealInputs(this.deps.cipher, id, metadata.inputs),
        ...(contextRef && context !== undefined ? { context_ref: contextRef, context_sha256: contextDigest(context) } : {}),
        submitted_at: new Date().toISOString(),
      },
    };
    await this.deps.queueFor(partition).send(JSON.stringify(message));
    return { job_id: id, partition, trace_id: traceId };
  }
}
