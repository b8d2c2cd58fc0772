import type { GenerationRequest } from './generation-request.ts';
import { HISTORY_RETENTION_DAYS, type JobRecord, type PayloadRef } from './job-record.ts';
import { contextDigest, inputHash, jobKey, payloadFingerprint } from './job-key.ts';
import { partitionOf } from './partition.ts';

/** What identifies a request before anything is stored: the same request always yields the same. */
export function identify(request: GenerationRequest, partitions: number) {
  return {
    id: jobKey(request),
    fingerprint: payloadFingerprint(request.context === undefined ? undefined : contextDigest(request.context), request.output),
    partition: partitionOf(request, partitions),
  };
}

/** Where a job's prompt context lives; the fingerprint in the key keeps a conflicting payload from overwriting it. */
export function contextKey(id: string, fingerprint: string): string {
  return `payloads/${id}/${fingerprint}.context`;
}

/** The item a new job is created as: queued, token 0, one audit line for the submission. */
export function newJobRecord(args: {
  request: GenerationRequest;
  contextRef: PayloadRef | undefined;
  partitions: number;
  traceId: string;
  submittedBy: string;
  now: Date;
}): JobRecord {
  const { id, fingerprint, partition } = identify(args.request, args.partitions);
  const { context: _context, ...request } = args.request;
  const at = args.now.toISOString();
  return {
    id,
    state: 'queued',
    seq: 0,
    partition,
    tenant: request.base_id,
    priority: request.priority ?? 'interactive',
    request,
    input_hash: inputHash(request.inputs),
    fingerprint,
    ...(args.contextRef ? { context_ref: args.contextRef } : {}),
    token: 0,
    attempts: 0,
    trace_id: args.traceId,
    created_at: at,
    updated_at: at,
    expires_at: Math.floor(args.now.getTime() / 1000) + HISTORY_RETENTION_DAYS * 86400,
    audit: [{ at, event: 'submit', from: 'queued', to: 'queued', actor: args.submittedBy, token: 0, reason: 'submitted' }],
  };
}
