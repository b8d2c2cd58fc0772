import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { parseGenerationRequest } from '../../src/jobs/generation-request.ts';
import { jobKey } from '../../src/jobs/job-key.ts';
import { payloadAad } from '../../src/runtime/crypto/payload-cipher.ts';
import type { Harness } from '../support/harness.ts';
import { captureCrashes, fenceTokens, scanJobIds } from './fuzz-support.ts';
import { mutatedRequestArb, storageHostileNumberArb, validRequestArb, type Json, type RequestObject } from './request-arbitraries.ts';

/** One malformed message for a partition queue. */
export interface SqsCase {
  kind: string;
  body: string;
  partition: number;
}

export interface SqsFailure {
  kind: string;
  problem: 'not_dead_lettered' | 'no_reason_code' | 'refused_by_sqs' | 'job_written';
  detail?: string;
  input: string;
}

export interface SqsFuzzResult {
  cases: number;
  sent: number;
  /** Messages in the permanent DLQ with a reason_code. */
  poisonToDlq: number;
  byReason: Record<string, number>;
  llmCalls: number;
  /** Job items created while only poison was sent. */
  jobsWritten: string[];
  /** Actor restarts (new fencing tokens) and process-level crashes. */
  crashes: number;
  crashErrors: string[];
  failures: SqsFailure[];
  /** From the first send until the last dead letter that matched a case arrived. */
  lastDeadLetterMs: number;
  durationMs: number;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const traceId = fc.stringMatching(/^[a-z0-9-]{1,36}$/);
const claimCheck = fc.record({ v: fc.constant(1), job_id: hex64, trace_id: traceId });

function safeJobKey(request: RequestObject): string | undefined {
  try {
    return jobKey(request as never);
  } catch {
    return undefined;
  }
}

/** A producer message whose request is valid and whose job id matches it: broken elsewhere only. */
const producerBase = fc.tuple(validRequestArb, traceId).map(([request, trace]) => {
  const { context: _context, ...rest } = request;
  return { v: 1, job_id: jobKey(rest as never), trace_id: trace, submit: { request: rest as RequestObject, submitted_at: new Date(0).toISOString() } };
});

const NOT_OBJECT: Json[] = [null, 0, 1, -1.5, true, false, 'x', '', [], [1], [{}]];

const caseBodyArb: fc.Arbitrary<{ kind: string; body: string }> = fc.oneof(
  { arbitrary: fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 50, unit: 'grapheme' })).filter((s) => s.trim() !== '' && !isJson(s)).map((body) => ({ kind: 'not_json', body })), weight: 3 },
  {
    arbitrary: fc.tuple(producerBase, fc.nat()).map(([m, cut]) => {
      const text = JSON.stringify(m);
      return { kind: 'truncated_json', body: text.slice(0, 1 + (cut % (text.length - 2))) };
    }),
    weight: 2,
  },
  { arbitrary: fc.constantFrom(...NOT_OBJECT).map((v) => ({ kind: 'non_object', body: JSON.stringify(v) })).filter((c) => c.body !== '""'), weight: 1 },
  { arbitrary: fc.tuple(claimCheck, fc.constantFrom<Json>(0, 2, '1', null, 1.5, true, [1], {})).map(([m, v]) => ({ kind: 'bad_version', body: JSON.stringify({ ...m, v }) })), weight: 1 },
  { arbitrary: claimCheck.map(({ v: _v, ...m }) => ({ kind: 'bad_version:missing', body: JSON.stringify(m) })), weight: 1 },
  {
    arbitrary: fc
      .tuple(claimCheck, fc.oneof(hex64.map((id) => id.toUpperCase().replace(/^[0-9]/, 'A')), hex64.map((id) => id.slice(1)), hex64.map((id) => `${id}0`), hex64.map((id) => `${id.slice(2)}zz`), fc.constantFrom<Json>(null, 1, [], {}, '')))
      .map(([m, job_id]) => ({ kind: 'bad_job_id', body: JSON.stringify({ ...m, job_id }) })),
    weight: 2,
  },
  {
    arbitrary: fc.tuple(claimCheck, fc.oneof(fc.constantFrom<Json>('', null, 5, {}, []), fc.integer({ min: 129, max: 5_000 }).map((n) => 't'.repeat(n)))).map(([m, trace_id]) => ({ kind: 'bad_trace_id', body: JSON.stringify({ ...m, trace_id }) })),
    weight: 2,
  },
  { arbitrary: fc.tuple(claimCheck, fc.constantFrom<Json>('x', 5, true, null, [], [1], {})).map(([m, submit]) => ({ kind: 'submit_not_request', body: JSON.stringify({ ...m, submit }) })), weight: 2 },
  {
    // A broken request: job id random, or the request's own key when one can be computed.
    arbitrary: fc.tuple(mutatedRequestArb.filter((m) => !m.kind.startsWith('number_out_of_range')), traceId, fc.boolean(), hex64).map(([m, trace, matching, random]) => ({
      kind: `invalid_request:${m.kind}`,
      body: JSON.stringify({ v: 1, job_id: (matching && safeJobKey(m.request)) || random, trace_id: trace, submit: { request: m.request, submitted_at: new Date(0).toISOString() } }),
    })),
    weight: 6,
  },
  { arbitrary: fc.tuple(producerBase, hex64).map(([m, other]) => ({ kind: 'job_id_mismatch', body: JSON.stringify({ ...m, job_id: other }) })), weight: 2 },
  {
    // Well-formed, its own key, but a prompt version no template exists for.
    arbitrary: fc.tuple(producerBase, fc.constantFrom('nope-v9', 'summary-v2', 'x')).map(([m, version]) => {
      const request = { ...m.submit.request, prompt_version: version };
      return { kind: 'unknown_prompt_version', body: JSON.stringify({ ...m, job_id: jobKey(request as never), submit: { ...m.submit, request } }) };
    }),
    weight: 1,
  },
  { arbitrary: claimCheck.map((m) => ({ kind: 'unknown_job', body: JSON.stringify(m) })), weight: 2 },
  {
    // Valid by the schema, not storable: numbers outside what DynamoDB holds, '__proto__' keys.
    arbitrary: fc.tuple(producerBase, fc.oneof(storageHostileNumberArb.map((n) => ({ n })), fc.constant({ proto: true }))).map(([m, hostile]) => {
      const request = { ...m.submit.request };
      if ('n' in hostile) request['inputs'] = { ...(request['inputs'] as RequestObject), fldNum: hostile.n };
      else request['inputs'] = JSON.parse('{"__proto__":"x"}') as RequestObject;
      const message = { ...m, job_id: safeJobKey(request) ?? m.job_id, submit: { ...m.submit, request } };
      return { kind: `storage_hostile:${'n' in hostile ? 'number' : 'proto_key'}`, body: JSON.stringify(message) };
    }),
    weight: 2,
  },
  {
    // Valid request, matching id, garbage around it: a claim check to nowhere, a non-time.
    arbitrary: fc
      .tuple(
        producerBase,
        fc.oneof(
          fc.constantFrom<Json>(5, 'x', [], {}, null, { key: 5 }, { key: 'payloads/x', sha256: 'zz', bytes: -1 }).map((context_ref) => ({ context_ref })),
          fc.constantFrom<Json>(5, 'yesterday', null, {}, []).map((submitted_at) => ({ submitted_at })),
        ),
      )
      .map(([m, extra]) => ({ kind: `malformed_submit:${Object.keys(extra)[0]}`, body: JSON.stringify({ ...m, submit: { ...m.submit, ...extra } }) })),
    weight: 2,
  },
  {
    arbitrary: fc.tuple(claimCheck, fc.integer({ min: 10_000, max: 200_000 })).map(([m, n]) => ({ kind: 'huge_unknown_field', body: JSON.stringify({ ...m, padding: 'p'.repeat(n) }) })),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(producerBase, fc.integer({ min: 17, max: 3_000 }), fc.boolean()).map(([m, depth, inRequest]) => {
      let deep: Json = 'leaf';
      for (let i = 0; i < depth; i += 1) deep = [deep];
      const body = inRequest ? { ...m, submit: { ...m.submit, request: { ...m.submit.request, metadata: { deep } } } } : { ...m, deep };
      return { kind: `deep_nesting:${inRequest ? 'metadata' : 'top'}`, body: JSON.stringify(body) };
    }),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(claimCheck, fc.constantFrom('v', 'job_id'), fc.constantFrom<Json>(2, null, 'X')).map(([m, key, bad]) => ({
      kind: `duplicate_key:${key}`,
      // The valid value first: a first-key-wins reader would accept it; ours reads the last.
      body: `{${JSON.stringify(key)}:${JSON.stringify(m[key as 'v'])},${JSON.stringify({ ...m, [key]: bad }).slice(1)}`,
    })),
    weight: 1,
  },
  { arbitrary: fc.tuple(claimCheck, fc.constantFrom('\\ud800', '\\udfff', 'x\\ud83d')).map(([m, escape]) => ({ kind: 'lone_surrogate', body: JSON.stringify({ ...m, trace_id: 'SURR' }).replace('SURR', escape) })), weight: 1 },
);

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * SQS takes only XML 1.0 characters, and fauxqs not even those above U+FFFF (AWS does): anything
 * else would be refused at the send, and fuzz nothing. JSON escapes (\\ud800) still get through.
 */
function sqsSafe(body: string): string {
  return body.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '?');
}

const PROMPT_VERSIONS = new Set(['summary-v1', 'followup-v1']);

/** Replacing characters SQS refuses can repair a broken request (4,500 emoji become 4,500 bytes). */
function stillInvalid(c: { kind: string; body: string }): boolean {
  if (!c.kind.startsWith('invalid_request')) return true;
  try {
    const request = (JSON.parse(c.body) as { submit: { request: unknown } }).submit.request;
    return !PROMPT_VERSIONS.has(parseGenerationRequest(request).prompt_version);
  } catch {
    return true;
  }
}

export function sqsCaseArb(partitions: number): fc.Arbitrary<SqsCase> {
  return fc
    .tuple(caseBodyArb, fc.nat({ max: partitions - 1 }))
    .map(([c, partition]) => ({ kind: c.kind, body: sqsSafe(c.body), partition }))
    .filter(stillInvalid);
}

/**
 * A poison message is dead-lettered sealed (`{v, poison_message_id, sealed_body}`, AAD
 * `poison:<message id>`); its original body is what the case is matched by. Anything else (a
 * job's claim check) is returned as it is.
 */
async function openDeadLetter(h: Harness, body: string): Promise<string> {
  let parsed: { poison_message_id?: unknown; sealed_body?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return body;
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.poison_message_id !== 'string' || typeof parsed.sealed_body !== 'string') return body;
  return h.runtime.cipher.openText(parsed.sealed_body, payloadAad(`poison:${parsed.poison_message_id}`, 'request'));
}

function preview(c: SqsCase): string {
  return `${JSON.stringify(c.body.slice(0, 300))}${c.body.length > 300 ? ` …(${c.body.length} chars)` : ''}`;
}

async function sendAll(h: Harness, cases: SqsCase[], failures: SqsFailure[]): Promise<SqsCase[]> {
  const sent: SqsCase[] = [];
  const byPartition = new Map<number, SqsCase[]>();
  for (const c of cases) byPartition.set(c.partition, [...(byPartition.get(c.partition) ?? []), c]);
  const batches: SqsCase[][] = [];
  for (const list of byPartition.values()) {
    let batch: SqsCase[] = [];
    let bytes = 0;
    for (const c of list) {
      const size = Buffer.byteLength(c.body);
      // A batch holds 10 entries and 256 KiB in all.
      if (batch.length === 10 || (batch.length > 0 && bytes + size > 200_000)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(c);
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as SqsCase[];
        const url = h.stack.infra.queues.partitions[(batch[0] as SqsCase).partition] as string;
        const out = await h.runtime.aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: batch.map((c, i) => ({ Id: String(i), MessageBody: c.body })) }));
        for (const ok of out.Successful ?? []) sent.push(batch[Number(ok.Id)] as SqsCase);
        for (const bad of out.Failed ?? []) {
          const c = batch[Number(bad.Id)] as SqsCase;
          failures.push({ kind: c.kind, problem: 'refused_by_sqs', detail: `${bad.Code}: ${bad.Message}`, input: preview(c) });
        }
      }
    }),
  );
  return sent;
}

/**
 * Sends `runs` generated poison messages to the partition queues the harness' real supervisor
 * consumes, then reads the permanent DLQ until each one is there (with a `reason_code`) or the
 * time is up. Also checks: no LLM call, no job item written, no actor restarted (fencing tokens
 * unchanged), no crash in the process.
 */
export async function runSqsFuzz(h: Harness, options: { runs: number; seed: number; timeoutMs?: number; kinds?: RegExp }): Promise<SqsFuzzResult> {
  const started = performance.now();
  const arbitrary = options.kinds ? sqsCaseArb(h.stack.config.partitions).filter((c) => options.kinds!.test(c.kind)) : sqsCaseArb(h.stack.config.partitions);
  const cases = fc.sample(arbitrary, { numRuns: options.runs, seed: options.seed });
  const failures: SqsFailure[] = [];
  const crashes = captureCrashes();
  const llmBefore = h.stack.llm.stats().calls;
  const jobsBefore = new Set(await scanJobIds(h));
  const tokensBefore = await fenceTokens(h);
  const sendStarted = performance.now();
  let lastDeadLetterMs = 0;
  const sent = await sendAll(h, cases, failures);

  // Matched by body; a job that was created and then failed is dead-lettered by the runner as a
  // claim check on its id, not with the original body: those are matched by job id.
  const jobIdOf = (body: string): string | undefined => {
    try {
      const id = (JSON.parse(body) as { job_id?: unknown }).job_id;
      return typeof id === 'string' ? id : undefined;
    } catch {
      return undefined;
    }
  };
  const byBody = new Map<string, SqsCase[]>();
  const byJobId = new Map<string, SqsCase[]>();
  for (const c of sent) {
    byBody.set(c.body, [...(byBody.get(c.body) ?? []), c]);
    const id = jobIdOf(c.body);
    if (id !== undefined) byJobId.set(id, [...(byJobId.get(id) ?? []), c]);
  }
  const matched = new Set<SqsCase>();
  const take = (body: string): SqsCase | undefined => {
    const id = jobIdOf(body);
    const candidates = [...(byBody.get(body) ?? []), ...(id === undefined ? [] : (byJobId.get(id) ?? []))];
    const c = candidates.find((candidate) => !matched.has(candidate));
    if (c) matched.add(c);
    return c;
  };
  let remaining = sent.length;
  const byReason: Record<string, number> = {};
  let poisonToDlq = 0;
  const deadline = Date.now() + (options.timeoutMs ?? 45_000);
  const dlq = h.stack.infra.queues.dlqPermanent;
  while (remaining > 0 && Date.now() < deadline) {
    const out = await h.runtime.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length > 0) {
      await h.runtime.aws.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlq, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }));
    }
    for (const m of messages) {
      const c = take(await openDeadLetter(h, m.Body ?? ''));
      if (!c) continue; // a dead letter of someone else's (not expected in a fresh harness)
      remaining -= 1;
      lastDeadLetterMs = Math.round(performance.now() - sendStarted);
      const reason = m.MessageAttributes?.['reason_code']?.StringValue;
      if (!reason) {
        failures.push({ kind: c.kind, problem: 'no_reason_code', detail: 'redriven by SQS after maxReceiveCount, not dead-lettered by warden', input: preview(c) });
        continue;
      }
      poisonToDlq += 1;
      byReason[reason] = (byReason[reason] ?? 0) + 1;
    }
  }
  for (const c of sent) {
    if (!matched.has(c)) failures.push({ kind: c.kind, problem: 'not_dead_lettered', detail: `not in the permanent DLQ after ${options.timeoutMs ?? 45_000} ms`, input: preview(c) });
  }

  const tokensAfter = await fenceTokens(h);
  const restarts = tokensAfter.reduce((sum, token, p) => sum + (token - (tokensBefore[p] ?? 0)), 0);
  const crashed = crashes.stop();
  const jobsWritten = (await scanJobIds(h)).filter((id) => !jobsBefore.has(id));
  for (const id of jobsWritten) {
    const c = byJobId.get(id)?.[0];
    failures.push({ kind: c?.kind ?? 'unknown', problem: 'job_written', detail: `job ${id} was created`, input: c ? preview(c) : '' });
  }
  return {
    cases: cases.length,
    sent: sent.length,
    poisonToDlq,
    byReason,
    llmCalls: h.stack.llm.stats().calls - llmBefore,
    jobsWritten,
    crashes: restarts + crashed.length,
    crashErrors: crashed.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)).split('\n').slice(0, 6).join('\n')),
    failures,
    lastDeadLetterMs,
    durationMs: Math.round(performance.now() - started),
  };
}
