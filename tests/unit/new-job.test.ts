import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import { contextDigest, inputHash, jobKey, payloadFingerprint } from '../../src/jobs/job-key.ts';
import { contextKey, identify, newJobRecord } from '../../src/jobs/new-job.ts';
import { partitionOf } from '../../src/jobs/partition.ts';

const request: GenerationRequest = {
  base_id: 'appB',
  table_id: 'tblT',
  record_id: 'recR',
  field_id: 'fldF',
  prompt_version: 'summary-v1',
  inputs: { notes: 'n', amount: 2 },
  context: 'secret context with PII',
  output: { format: 'text' },
  priority: 'bulk',
  source: 'backfill',
};
const now = new Date('2025-03-01T12:34:56.789Z');
const contextRef = { key: 'payloads/k/f.context', sha256: contextDigest(request.context ?? ''), bytes: 23 };

const make = (overrides: Partial<Parameters<typeof newJobRecord>[0]> = {}) =>
  newJobRecord({ request, contextRef, partitions: 16, traceId: 'trace-9', submittedBy: 'ingest@host1', now, ...overrides });

describe('newJobRecord', () => {
  it('starts queued at seq 0 with token 0 and no attempts', () => {
    const job = make();
    assert.equal(job.state, 'queued');
    assert.equal(job.seq, 0);
    assert.equal(job.token, 0);
    assert.equal(job.attempts, 0);
    assert.equal(job.owner, undefined);
    assert.equal(job.result, undefined);
  });

  it('is identified by the job key, in the record’s partition, with its input hash and fingerprint', () => {
    const job = make();
    assert.equal(job.id, jobKey(request));
    assert.equal(job.partition, partitionOf(request, 16));
    assert.equal(job.input_hash, inputHash(request.inputs));
    assert.equal(job.fingerprint, payloadFingerprint(contextDigest('secret context with PII'), { format: 'text' }));
    assert.equal(job.tenant, 'appB');
    assert.equal(job.priority, 'bulk');
    assert.equal(job.trace_id, 'trace-9');
  });

  it('defaults priority to interactive', () => {
    const { priority: _p, ...interactive } = request;
    assert.equal(make({ request: interactive }).priority, 'interactive');
  });

  it('expires 180 days after creation (epoch seconds)', () => {
    const job = make();
    assert.equal(job.created_at, '2025-03-01T12:34:56.789Z');
    assert.equal(job.updated_at, job.created_at);
    assert.equal(job.expires_at, Math.floor(Date.parse('2025-08-28T12:34:56.789Z') / 1000));
    assert.equal(job.expires_at - Math.floor(now.getTime() / 1000), 180 * 24 * 60 * 60);
  });

  it('holds one audit line: the submission', () => {
    const job = make();
    assert.equal(job.audit.length, 1);
    assert.deepEqual(job.audit[0], {
      at: '2025-03-01T12:34:56.789Z',
      event: 'submit',
      from: 'queued',
      to: 'queued',
      actor: 'ingest@host1',
      token: 0,
      reason: 'submitted',
    });
  });

  it('never stores the prompt context in the job item, only the claim check', () => {
    const job = make();
    assert.equal('context' in job.request, false);
    assert.ok(!JSON.stringify(job).includes('secret context with PII'));
    assert.deepEqual(job.context_ref, contextRef);
    const { context: _c, ...rest } = request;
    assert.deepEqual(job.request, rest);
  });

  it('has no context_ref when none is given', () => {
    const { context: _c, ...noContext } = request;
    const job = make({ request: noContext, contextRef: undefined });
    assert.equal('context_ref' in job, false);
  });

  it('does not mutate the request it was given', () => {
    const copy = structuredClone(request);
    make();
    assert.deepEqual(request, copy);
  });
});

describe('identify / contextKey', () => {
  it('gives the same identity to the same request, and a new fingerprint for a new context', () => {
    assert.deepEqual(identify(request, 16), identify({ ...request }, 16));
    const other = identify({ ...request, context: 'other' }, 16);
    assert.equal(other.id, identify(request, 16).id);
    assert.notEqual(other.fingerprint, identify(request, 16).fingerprint);
  });

  it('places the context under the job id and fingerprint', () => {
    assert.equal(contextKey('abc', 'def'), 'payloads/abc/def.context');
  });
});
