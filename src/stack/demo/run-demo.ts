import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import type { GenerationRequest } from '../../jobs/generation-request.ts';
import { IngestApi } from '../../ingest/http/http-api.ts';
import { accessLoggedResultReader } from '../../ingest/http/result-reader.ts';
import { openResult } from '../../runtime/crypto/job-sealing.ts';
import { ingestDeps } from '../../ingest/ingest-deps.ts';
import { WardenProducer } from '../../ingest/producer.ts';
import { createLogger } from '../../runtime/logger.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { startLocalStack } from '../local-stack.ts';
import { demoReport, formatReport, type DemoReport } from './demo-report.ts';
import { JobTracker } from './job-tracker.ts';
import { spawnSupervisor } from './spawn-supervisor.ts';
import { buildWorkload, type Submission } from './workload.ts';

export interface DemoOptions {
  total: number;
  timeScale: number;
  partitions: number;
  seed: number;
  deadlineMs: number;
  workDir: string;
  print: (line: string) => void;
}

/**
 * The main local job: the whole stack, one supervisor process, the ingest API, and a workload of
 * duplicates and mid-flight edits; then the exactly-once verdict counted at the simulators.
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const started = Date.now();
  const dir = resolve(options.workDir);
  mkdirSync(dir, { recursive: true });
  const stack = await startLocalStack({
    partitions: options.partitions,
    timeScale: options.timeScale,
    faults: { rate429: 0.02, retryAfterS: 1, rate5xx: 0.01 },
    configOverrides: (config) => {
      config['metrics'] = { output: join(dir, 'metrics.emf'), flushIntervalMs: 5000 };
      config['actor'] = { concurrency: 100 };
    },
  });
  const configPath = stack.writeConfig(join(dir, 'config.json'));
  const runtime = await createRuntime(stack.config, {
    log: createLogger({ level: 'info', service: 'warden-api', destination: (await import('pino')).default.destination(join(dir, 'api.log')) }),
  });
  // The local demo runs without credentials; a deployment configures API keys or JWTs.
  const api = new IngestApi(ingestDeps(runtime), runtime.log, {
    allowAnonymous: true,
    rateLimit: false,
    readResult: accessLoggedResultReader({ accessLog: runtime.accessLog, clock: runtime.clock, open: (job) => openResult(runtime.cipher, job) }),
  });
  const producer = new WardenProducer({ payloads: runtime.payloads, cipher: runtime.cipher, queueFor: (p) => runtime.queueFor(p), partitions: stack.config.partitions });
  const supervisor = await spawnSupervisor(configPath, join(dir, 'supervisor.log'), 'demo-supervisor-1');
  try {
    const apiUrl = await api.listen(0, '127.0.0.1');
    const workload = buildWorkload({ total: options.total, seed: options.seed, spreadMs: 3000 });
    for (const record of workload.records) stack.records.putRecord(record.base_id, record.table_id, record.record_id, record.fields);
    options.print(`local stack up in ${Date.now() - started} ms; supervisor pid ${supervisor.pid}; API ${apiUrl}; logs in ${dir}`);
    options.print(`workload: ${workload.submissions.length} submissions over ${workload.records.length} records, ${workload.edits.length} edits mid-flight`);

    const tracker = new JobTracker(apiUrl);
    let submitted = 0;
    const submit = async (submission: Pick<Submission, 'request' | 'via'>) => {
      const at = Date.now();
      const id = submission.via === 'producer' ? (await producer.submit(submission.request)).job_id : await submitOverHttp(apiUrl, submission.request);
      submitted += 1;
      tracker.noteSubmitted(id, at);
    };
    const t0 = Date.now();
    const pending: Array<Promise<void>> = [];
    const at = (ms: number, work: () => Promise<void>) => pending.push(new Promise((r) => setTimeout(r, ms)).then(work));
    for (const submission of workload.submissions) at(submission.atMs, () => submit(submission));
    for (const edit of workload.edits) {
      at(edit.atMs, async () => {
        const { record } = edit;
        if (edit.kind === 'other') {
          stack.records.editRecord(record.base_id, record.table_id, record.record_id, { fldStatus: `touched at ${Date.now() - t0} ms` });
          return;
        }
        // A user rewrites the notes; the product asks for fresh generations of the new inputs.
        record.fields['fldNotes'] = `${record.fields['fldNotes']} (edited)`;
        stack.records.editRecord(record.base_id, record.table_id, record.record_id, { fldNotes: record.fields['fldNotes'] as string });
        const base = { base_id: record.base_id, table_id: record.table_id, record_id: record.record_id, source: 'automation' as const };
        await submit({ via: 'api', request: { ...base, field_id: 'fldSummary', prompt_version: 'summary-v1', inputs: { fldNotes: record.fields['fldNotes'] as string, fldTitle: record.fields['fldTitle'] as string } } });
      });
    }
    const allSent = Promise.all(pending);
    let sent = false;
    void allSent.then(() => (sent = true));
    while (!(sent && tracker.unfinished.length === 0) && Date.now() - started < options.deadlineMs) {
      await new Promise((r) => setTimeout(r, 1000));
      await tracker.poll();
      const counts = tracker.counts();
      const llm = stack.llm.stats();
      options.print(
        `  t=${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s submitted ${String(submitted).padStart(4)}  jobs ${tracker.jobs.size}  ` +
          ['queued', 'leased', 'running', 'generated', 'succeeded', 'superseded', 'failed', 'dead_lettered'].map((s) => `${s} ${counts[s] ?? 0}`).join('  ') +
          `  | llm in flight ${llm.inFlight}`,
      );
    }
    await allSent;
    return demoReport({ submitted, tracker, llm: stack.llm.stats(), records: stack.records.stats(), elapsedMs: Date.now() - started });
  } finally {
    try {
      process.kill(supervisor.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await Promise.race([supervisor.exited, new Promise((r) => setTimeout(r, 15_000))]);
    supervisor.kill();
    await api.close();
    await runtime.close();
    await stack.stop();
  }
}

async function submitOverHttp(apiUrl: string, body: GenerationRequest): Promise<string> {
  const response = await request(`${apiUrl}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.body.json()) as { id?: string; code?: string; message?: string };
  if (response.statusCode !== 202 || !json.id) throw new Error(`submission refused: ${response.statusCode} ${json.code}: ${json.message}`);
  return json.id;
}

export { formatReport };
