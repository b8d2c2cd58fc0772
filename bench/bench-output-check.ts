/**
 * What a job costs between its prompt being rendered and its answer being checked, at the peak
 * day's 64 KB of prompt context: the bytes each ready call keeps (`Generation.ready` on a real CPU
 * pool, `--jobs` calls held at once), the main-thread CPU of one data-quality check of its answer,
 * and the bytes each LLM call in flight keeps (`--calls` requests held open by a local server).
 * Run with --expose-gc. Last line: one JSON object.
 *
 *   node --expose-gc --import tsx bench/bench-output-check.ts [--jobs 2000] [--calls 500]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Generation, type ReadyCall } from '../src/actors/generation.ts';
import { openGate } from '../src/actors/llm-gate.ts';
import type { JobRecord } from '../src/jobs/job-record.ts';
import type { AccessLog } from '../src/runtime/access-log/access-log.ts';
import type { PayloadCipher } from '../src/runtime/crypto/payload-cipher.ts';
import { CpuPool } from '../src/runtime/cpu/cpu-pool.ts';
import { runCpuTask } from '../src/runtime/cpu/cpu-tasks.ts';
import type { LlmProvider } from '../src/runtime/llm-provider.ts';
import { OpenAiChatProvider } from '../src/runtime/llm/openai-chat-provider.ts';
import { TemplateCatalog } from '../src/runtime/prompts/template-catalog.ts';
import { benchRecord, benchRequest, contextPool } from './common/bench-workload.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string' }, calls: { type: 'string' } } });
const jobs = Number(values.jobs ?? 2000);
const calls = Number(values.calls ?? 500);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function settledBytes(): number {
  gc!();
  gc!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

const contexts = contextPool(64 * 1024);
const templates = new TemplateCatalog(resolve('config/prompts'));

function job(i: number): JobRecord {
  const request = benchRequest(benchRecord('B', i));
  return {
    id: `job-${i}`,
    state: 'leased',
    seq: 1,
    partition: 0,
    tenant: 't1',
    priority: 'interactive',
    request,
    input_hash: 'h',
    fingerprint: 'f',
    context_ref: { key: `ctx-${i % contexts.length}`, sha256: 'x', bytes: 64 * 1024 },
    token: 1,
    attempts: 0,
  } as unknown as JobRecord;
}

async function readyCalls(): Promise<{ perJobBytes: number; checkMicros: { summary: number; quoting: number } }> {
  const pool = new CpuPool({ threads: 1, maxQueue: 100_000 });
  const generation = new Generation({
    // A fresh buffer per read, as the object store hands back.
    payloads: { put: async () => { throw new Error('unused'); }, get: async (ref) => Buffer.from(contexts[Number(ref.key.slice(4))] as string, 'utf8') },
    cipher: {} as PayloadCipher,
    accessLog: { append: async () => undefined } as unknown as AccessLog,
    member: 'bench',
    templates,
    prepare: (task, signal) => pool.prepare(task, signal),
    gate: openGate,
    llm: {} as LlmProvider,
    llmTimeoutMs: 60_000,
  });
  const signal = new AbortController().signal;
  await generation.ready(job(0), signal);
  const before = settledBytes();
  const held: ReadyCall[] = [];
  for (let i = 0; i < jobs; i += 50) {
    held.push(...(await Promise.all(Array.from({ length: Math.min(50, jobs - i) }, (_, j) => generation.ready(job(i + j), signal)))));
  }
  const perJobBytes = (settledBytes() - before) / held.length;
  await pool.close();

  // The simulated LLM's answer (a summary of the inputs), and a longer one quoting the context.
  const notes = benchRecord('B', 1).fields['fldNotes'] as string;
  const summary = `Summary of ${notes.split(' ').slice(0, 12).join(' ')}… ⟦gen:0123456789abcdef|in:fldNotes:0123456789abcdef⟧`;
  const quoting = `The account is active. ${(contexts[1] as string).slice(1000, 1150)} It also says a lot more in its own words about the renewal and what happens next, which is what a summary does.`;
  // What the CPU pool's worker does per check: decode the encoded messages, then check.
  const check = (text: string, call: ReadyCall) => runCpuTask({ kind: 'check', text, options: call.quality, messages: call.prepared.messages });
  const micros = (text: string) => {
    const rounds = 200;
    for (let i = 0; i < 20; i += 1) check(text, held[i] as ReadyCall);
    const started = process.cpuUsage();
    for (let i = 0; i < rounds; i += 1) {
      const verdict = check(text, held[i % held.length] as ReadyCall);
      if (!verdict.ok) throw new Error(`unexpected verdict ${verdict.code}`);
    }
    const used = process.cpuUsage(started);
    return (used.user + used.system) / rounds;
  };
  return { perJobBytes, checkMicros: { summary: micros(summary), quoting: micros(quoting) } };
}

/** Bytes per LLM call in flight: the server reads each request and answers only once all arrived. */
async function callsInFlight(): Promise<number> {
  let arrived = 0;
  let release: () => void = () => undefined;
  const allArrived = new Promise<void>((resolveAll) => (release = resolveAll));
  const answer = JSON.stringify({ model: 'm', choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 1, completion_tokens: 1 } });
  const waiting: Array<() => void> = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      waiting.push(() => res.end(answer));
      arrived += 1;
      if (arrived === calls) release();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const provider = new OpenAiChatProvider({
    name: 'bench',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    model: 'm',
    connections: calls,
    connectTimeoutMs: 5000,
    firstByteTimeoutMs: 60_000,
  });
  const messages = (i: number) => [
    { role: 'system' as const, content: 'You summarize records.' },
    { role: 'user' as const, content: `Record ${i}\n${contexts[i % contexts.length] as string}` },
  ];
  // Warm the connections, so sockets and parsers are in the baseline.
  arrived = -calls;
  await Promise.all([
    Promise.all(Array.from({ length: calls }, () => provider.complete({ messages: messages(0), maxTokens: 10, timeoutMs: 60_000 }).catch(() => undefined))),
    new Promise<void>((done) => {
      const flush = setInterval(() => {
        if (arrived === 0) {
          clearInterval(flush);
          for (const reply of waiting.splice(0)) reply();
          done();
        }
      }, 10);
    }),
  ]);
  // The messages stay with their job (the gate may ask again): only what the call adds counts.
  const kept = Array.from({ length: calls }, (_, i) => messages(i));
  const before = settledBytes();
  const pending = kept.map((m) => provider.complete({ messages: m, maxTokens: 10, timeoutMs: 60_000 }));
  await allArrived;
  const perCall = (settledBytes() - before) / calls;
  for (const reply of waiting.splice(0)) reply();
  await Promise.all(pending);
  await provider.close();
  server.close();
  return perCall;
}

const ready = await readyCalls();
const inFlight = await callsInFlight();
const result = {
  jobs,
  calls,
  readyBytesPerJob: Math.round(ready.perJobBytes),
  checkMicrosSummary: Math.round(ready.checkMicros.summary),
  checkMicrosQuoting: Math.round(ready.checkMicros.quoting),
  callBytesInFlight: Math.round(inFlight),
};
console.log(`ready call: ${(result.readyBytesPerJob / 1024).toFixed(1)} KiB held per job; check: ${result.checkMicrosSummary} µs (summary), ${result.checkMicrosQuoting} µs (quoting the context); call in flight: ${(result.callBytesInFlight / 1024).toFixed(1)} KiB`);
console.log(JSON.stringify(result));
