/**
 * The job work a BullMQ processor does in the side-by-side benchmarks: what warden's job path
 * does around its checkpoints, with the same prompt and the same HTTP calls, so the simulated LLM
 * and record store count both runtimes alike:
 *   GET the record → inputs still current? → render the versioned prompt (+ token estimate) →
 *   POST /v1/chat/completions → write back: the field already holds this result? done; inputs
 *   changed? superseded; else PATCH with If-Match the version read, re-read on 412 (bounded).
 * What it does not have is what warden adds: no memo of the result (a re-run pays again), no
 * fencing (a paused worker that wakes up still writes), no checkpoint per step.
 */
import { Agent, request } from 'undici';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import { inputHash } from '../../src/jobs/job-key.ts';
import { inputsStillCurrent } from '../../src/jobs/record-currency.ts';
import { runCpuTask } from '../../src/runtime/cpu/cpu-tasks.ts';
import { TemplateCatalog } from '../../src/runtime/prompts/template-catalog.ts';

export interface JobWorkOptions {
  llmUrl: string;
  recordsUrl: string;
  promptsDir: string;
  model: string;
  /** Sent as x-warden-member, so the simulator can tell what a killed worker had in flight. */
  member: string;
  llmTimeoutMs: number;
  maxConflictRetries?: number;
}

export type JobWorkOutcome = 'written' | 'already_written' | 'superseded' | 'record_gone';

interface StoredRecord {
  id: string;
  fields: Record<string, unknown>;
  version: string;
}

export class JobWork {
  private readonly llmAgent = new Agent({ connections: 8192, keepAliveTimeout: 30_000 });
  private readonly recordAgent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  private readonly templates: TemplateCatalog;
  private readonly chatUrl: string;
  private readonly recordBase: string;

  constructor(private readonly options: JobWorkOptions) {
    this.templates = new TemplateCatalog(options.promptsDir);
    this.chatUrl = new URL('v1/chat/completions', options.llmUrl.endsWith('/') ? options.llmUrl : `${options.llmUrl}/`).toString();
    this.recordBase = `${options.recordsUrl.replace(/\/$/, '')}/v0`;
  }

  private recordUrl(r: GenerationRequest): string {
    return `${this.recordBase}/${[r.base_id, r.table_id, r.record_id].map(encodeURIComponent).join('/')}`;
  }

  private async getRecord(r: GenerationRequest, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    const response = await request(this.recordUrl(r), { dispatcher: this.recordAgent, ...(signal ? { signal } : {}) });
    const text = await response.body.text();
    if (response.statusCode === 404) return undefined;
    if (response.statusCode !== 200) throw new Error(`record store answered ${response.statusCode} to GET`);
    return JSON.parse(text) as StoredRecord;
  }

  async run(job: GenerationRequest, signal?: AbortSignal): Promise<JobWorkOutcome> {
    const hash = inputHash(job.inputs);
    const inputIds = Object.keys(job.inputs);
    let record = await this.getRecord(job, signal);
    if (!record) return 'record_gone';
    if (!inputsStillCurrent(inputIds, hash, record.fields)) return 'superseded';
    const template = this.templates.get(job.prompt_version);
    const prepared = runCpuTask({ kind: 'prepare', template, request: job });
    const deadline = AbortSignal.timeout(this.options.llmTimeoutMs);
    const response = await request(this.chatUrl, {
      method: 'POST',
      dispatcher: this.llmAgent,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headers: { 'content-type': 'application/json', 'x-warden-member': this.options.member },
      body: JSON.stringify({ model: this.options.model, messages: prepared.messages, max_tokens: template.max_tokens }),
    });
    const body = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`LLM answered ${response.statusCode}`);
    const text = (JSON.parse(body) as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message?.content;
    if (typeof text !== 'string' || text === '') throw new Error('LLM answered without content');
    const field = job.field_id;
    for (let conflicts = 0; ; conflicts += 1) {
      record ??= await this.getRecord(job, signal);
      if (!record) return 'record_gone';
      if (record.fields[field] === text) return 'already_written';
      if (!inputsStillCurrent(inputIds, hash, record.fields)) return 'superseded';
      const patch = await request(this.recordUrl(job), {
        method: 'PATCH',
        dispatcher: this.recordAgent,
        ...(signal ? { signal } : {}),
        headers: { 'content-type': 'application/json', 'if-match': `"${record.version}"` },
        body: JSON.stringify({ fields: { [field]: text } }),
      });
      await patch.body.text();
      if (patch.statusCode === 200) return 'written';
      if (patch.statusCode === 404) return 'record_gone';
      if (patch.statusCode !== 412) throw new Error(`record store answered ${patch.statusCode} to PATCH`);
      if (conflicts >= (this.options.maxConflictRetries ?? 5)) throw new Error('write-back: too many version conflicts');
      record = undefined;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.llmAgent.close(), this.recordAgent.close()]);
  }
}
