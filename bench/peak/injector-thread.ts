/**
 * Bench-only worker thread of the fakes-mode supervisor: builds the job items and queue messages
 * of submitted requests as the ingest API would (identify, hash, new job record), so that this
 * work, which in production happens in the API's process, stays off the supervisor's event loop.
 * The main thread only stores what it is handed in the in-memory ports.
 *
 *   in:  {from, to, prefix, contextBytes, priority, partitions}
 *   out: {contextBytes, jobs: [{job, body, context}]}: `context` indexes the pooled contexts (-1: none)
 */
import { createHash, randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { contextKey, identify, newJobRecord } from '../../src/jobs/new-job.ts';
import type { JobRecord } from '../../src/jobs/job-record.ts';
import { benchRecord, benchRequest, contextPool } from '../common/bench-workload.ts';

export interface InjectRequest {
  from: number;
  to: number;
  prefix: string;
  contextBytes: number;
  priority: 'interactive' | 'bulk';
  partitions: number;
}

export interface InjectedJob {
  job: JobRecord;
  body: string;
  context: number;
}

const digests = new Map<number, string[]>();
function digestsOf(bytes: number): string[] {
  if (bytes <= 0) return [];
  let pool = digests.get(bytes);
  if (!pool) {
    pool = contextPool(bytes).map((text) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    digests.set(bytes, pool);
  }
  return pool;
}

function build(message: InjectRequest): InjectedJob[] {
  const pool = digestsOf(message.contextBytes);
  const out: InjectedJob[] = [];
  for (let i = message.from; i < message.to; i += 1) {
    const request = benchRequest(benchRecord(message.prefix, i), { priority: message.priority, source: message.priority === 'bulk' ? 'backfill' : 'automation' });
    const { id, fingerprint } = identify(request, message.partitions);
    const context = pool.length > 0 ? i % pool.length : -1;
    const contextRef = context >= 0 ? { key: contextKey(id, fingerprint), sha256: pool[context] as string, bytes: message.contextBytes } : undefined;
    const traceId = randomUUID();
    const job = newJobRecord({ request, contextRef, partitions: message.partitions, traceId, submittedBy: 'bench-injector', now: new Date() });
    out.push({ job, body: JSON.stringify({ v: 1, job_id: id, trace_id: traceId }), context });
  }
  return out;
}

parentPort?.on('message', (message: InjectRequest) => parentPort?.postMessage({ contextBytes: message.contextBytes, jobs: build(message) }));
