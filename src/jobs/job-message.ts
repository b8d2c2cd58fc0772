import { ValidationError } from '../errors.ts';
import type { GenerationRequest, Priority } from './generation-request.ts';
import type { PayloadRef } from './job-record.ts';

/**
 * The SQS message body: a claim check on the job item, never the payload itself. A producer
 * that submits over SQS (no DynamoDB access) also carries the request so the consumer can
 * create the job with the same conditional put the HTTP API uses.
 */
export interface JobMessage {
  v: 1;
  job_id: string;
  trace_id: string;
  /**
   * The job's priority class, so that a consumer can schedule a message before it reads the job
   * (bulk work is held back without a read when there is no room for it). Absent: interactive.
   */
  priority?: Priority;
  submit?: {
    request: Omit<GenerationRequest, 'context'>;
    context_ref?: PayloadRef;
    /** SHA-256 of the plaintext context: the stored copy is encrypted, its own digest is random. */
    context_sha256?: string;
    /** The input values, sealed for this job (the request carries the field ids with null values). */
    inputs_sealed?: string;
    submitted_at: string;
  };
}

const HEX_64 = /^[0-9a-f]{64}$/;

/** Parses a message body; a poison message gets a ValidationError naming what is wrong. */
export function parseJobMessage(body: string): JobMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ValidationError('poison_message', 'message body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('poison_message', 'message body is not a JSON object');
  }
  const message = parsed as Partial<JobMessage>;
  if (message.v !== 1) throw new ValidationError('poison_message', `unknown message version ${String(message.v)}`);
  if (typeof message.job_id !== 'string' || !HEX_64.test(message.job_id)) {
    throw new ValidationError('poison_message', 'job_id must be 64 lowercase hex characters');
  }
  if (typeof message.trace_id !== 'string' || message.trace_id.length === 0 || message.trace_id.length > 128) {
    throw new ValidationError('poison_message', 'trace_id must be a non-empty string of at most 128 characters');
  }
  if (message.priority !== undefined && message.priority !== 'interactive' && message.priority !== 'bulk') {
    throw new ValidationError('poison_message', "priority must be 'interactive' or 'bulk'");
  }
  const unknown = Object.keys(message).find((key) => !['v', 'job_id', 'trace_id', 'priority', 'submit'].includes(key));
  if (unknown !== undefined) throw new ValidationError('poison_message', `unknown message field '${unknown.slice(0, 64)}'`);
  if (message.submit !== undefined) checkSubmit(message.submit, message.job_id);
  return message as JobMessage;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The priority a message announces (a producer message's own request counts too). */
export function messagePriority(message: JobMessage): Priority {
  return message.priority ?? (message.submit?.request.priority === 'bulk' ? 'bulk' : 'interactive');
}

function checkSubmit(submit: unknown, jobId: string): void {
  if (submit === null || typeof submit !== 'object' || Array.isArray(submit)) throw new ValidationError('poison_message', 'submit must be an object');
  const { request, context_ref: ref, submitted_at: at, context_sha256: contextSha, inputs_sealed: sealed, ...rest } = submit as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new ValidationError('poison_message', `unknown submit field '${extra.slice(0, 64)}'`);
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw new ValidationError('poison_message', 'submit.request must be an object');
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new ValidationError('poison_message', 'submit.submitted_at must be an ISO time');
  if (contextSha !== undefined && (typeof contextSha !== 'string' || !SHA256.test(contextSha))) throw new ValidationError('poison_message', 'submit.context_sha256 must be 64 hex characters');
  if (sealed !== undefined && (typeof sealed !== 'string' || sealed.length === 0 || sealed.length > 200_000)) throw new ValidationError('poison_message', 'submit.inputs_sealed must be a sealed string');
  if ((ref === undefined) !== (contextSha === undefined)) throw new ValidationError('poison_message', 'submit.context_ref and submit.context_sha256 come together');
  if (ref === undefined) return;
  const r = ref as Record<string, unknown> | null;
  if (
    r === null || typeof r !== 'object' || Array.isArray(r) ||
    typeof r['key'] !== 'string' || !r['key'].startsWith(`payloads/${jobId}/`) ||
    typeof r['sha256'] !== 'string' || !SHA256.test(r['sha256']) ||
    !Number.isInteger(r['bytes']) || (r['bytes'] as number) < 0
  ) {
    throw new ValidationError('poison_message', 'submit.context_ref must be {key: payloads/<job_id>/..., sha256, bytes} of this job');
  }
}
