import type { GenerationRequest } from '../jobs/generation-request.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import type { PromptTemplate } from '../jobs/prompt-template.ts';
import type { AnswerCheckOptions, PrepareTask, PreparedPrompt } from '../runtime/cpu/cpu-tasks.ts';
import { decodeMessages, LlmCallError, type Completion, type EncodedMessages, type LlmProvider } from '../runtime/llm-provider.ts';
import type { PayloadStore } from '../runtime/payload-store.ts';
import type { GateTicket, LlmGate } from './llm-gate.ts';
import { checkOutput, type OutputCheck } from '../jobs/output-quality.ts';
import type { AccessLog } from '../runtime/access-log/access-log.ts';
import { openInputs } from '../runtime/crypto/job-sealing.ts';
import type { PayloadCipher } from '../runtime/crypto/payload-cipher.ts';

export interface GenerationDeps {
  payloads: PayloadStore;
  cipher: PayloadCipher;
  /** Every read of a payload is logged before it happens: who, tenant, job, purpose, time. */
  accessLog: AccessLog;
  member: string;
  templates: { get(version: string): PromptTemplate };
  prepare: (task: PrepareTask, signal?: AbortSignal) => Promise<PreparedPrompt>;
  /** The data-quality gate, run off the event loop; absent: inline. */
  check?: (text: string, options: AnswerCheckOptions, messages: EncodedMessages, signal?: AbortSignal) => Promise<OutputCheck>;
  gate: LlmGate;
  llm: LlmProvider;
  llmTimeoutMs: number;
  /** Told of every output the data-quality gate refuses (metrics, logs). */
  onInvalidOutput?: (code: string) => void;
}

/** A field that states no limit still gets one: no record field takes an unbounded answer. */
const DEFAULT_MAX_LENGTH = 100_000;

/** A prompt ready to send, and the gate's permission to send it. */
export interface ReadyCall {
  prepared: PreparedPrompt;
  maxTokens: number;
  ticket: GateTicket;
  /** What the data-quality gate checks the answer against, with the prompt's messages. */
  quality: AnswerCheckOptions;
}

/**
 * The paid part of a job, in two halves: `ready` (read the context, render the prompt off the
 * event loop, wait for the breaker and the limiter) runs before the job is marked running, so a
 * job waiting for capacity is not "running"; `call` spends the money.
 */
export class Generation {
  constructor(private readonly deps: GenerationDeps) {}

  async ready(job: JobRecord, signal: AbortSignal): Promise<ReadyCall> {
    await this.deps.accessLog.append({ who: `worker:${this.deps.member}`, tenant: job.tenant, jobId: job.id, purpose: 'render_prompt', at: new Date() }, signal);
    const [contextBytes, inputs] = await Promise.all([job.context_ref ? this.deps.payloads.get(job.context_ref, signal) : undefined, openInputs(this.deps.cipher, job)]);
    const template = this.deps.templates.get(job.request.prompt_version);
    const request: GenerationRequest = { ...job.request, inputs };
    // The context goes to the CPU pool as the bytes read, decoded there.
    const prepared = await this.deps.prepare({ kind: 'prepare', template, request, ...(contextBytes === undefined ? {} : { contextBytes }) }, signal);
    const ticket = await this.deps.gate.admit({ tenant: job.tenant, priority: job.priority, estimatedTokens: prepared.estimatedTokens, signal });
    // The job waits here (for the limiter, then the LLM) holding only the encoded messages it sends
    // and where its own values lie in them: neither the context nor a copy of the prompt.
    const quality: AnswerCheckOptions = {
      maxLength: job.request.output?.max_length ?? DEFAULT_MAX_LENGTH,
      format: job.request.output?.format ?? 'text',
      ownMarks: prepared.ownMarks,
    };
    return { prepared, maxTokens: template.max_tokens, ticket, quality };
  }

  /**
   * Calls the provider and checks the answer before it can be memoized: a failing output is
   * asked for once more (it may be a fluke), then fails the job as `invalid_output`. Nothing that
   * fails the gate is ever stored or written back.
   */
  async callChecked(ready: ReadyCall, signal: AbortSignal): Promise<Completion> {
    let verdict: string | undefined;
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const completion = await this.call(ready, signal);
      const { messages } = ready.prepared;
      const check = this.deps.check
        ? await this.deps.check(completion.text, ready.quality, messages, signal)
        : checkOutput(completion.text, { ...ready.quality, prompt: decodeMessages(messages).map((message) => message.content) });
      if (check.ok) return completion;
      verdict = `${check.code}: ${check.message}`;
      this.deps.onInvalidOutput?.(check.code);
    }
    throw new LlmCallError('invalid_output', `the output failed the data-quality gate twice (${verdict})`, { retryable: false });
  }

  async call(ready: ReadyCall, signal: AbortSignal): Promise<Completion> {
    try {
      const completion = await this.deps.llm.complete({
        messages: ready.prepared.messages,
        maxTokens: ready.maxTokens,
        timeoutMs: this.deps.llmTimeoutMs,
        signal,
      });
      ready.ticket.finish({ tokens: completion.promptTokens + completion.completionTokens, transientFailure: false });
      return completion;
    } catch (error) {
      const transient = error instanceof LlmCallError && error.retryable && error.code !== 'llm_aborted';
      const rateLimited = error instanceof LlmCallError && error.code === 'llm_rate_limited';
      ready.ticket.finish({
        tokens: 0,
        transientFailure: transient,
        ...(rateLimited ? { rateLimitedForMs: (error as LlmCallError).retryAfterMs ?? 1000 } : {}),
      });
      throw error;
    }
  }
}
