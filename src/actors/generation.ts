import type { GenerationRequest } from '../jobs/generation-request.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import type { PromptTemplate } from '../jobs/prompt-template.ts';
import type { CpuTask, PreparedPrompt } from '../runtime/cpu/cpu-tasks.ts';
import { LlmCallError, type Completion, type LlmProvider } from '../runtime/llm-provider.ts';
import type { PayloadStore } from '../runtime/payload-store.ts';
import type { GateTicket, LlmGate } from './llm-gate.ts';

export interface GenerationDeps {
  payloads: PayloadStore;
  templates: { get(version: string): PromptTemplate };
  prepare: (task: CpuTask, signal?: AbortSignal) => Promise<PreparedPrompt>;
  gate: LlmGate;
  llm: LlmProvider;
  llmTimeoutMs: number;
}

/** A prompt ready to send, and the gate's permission to send it. */
export interface ReadyCall {
  prepared: PreparedPrompt;
  maxTokens: number;
  ticket: GateTicket;
}

/**
 * The paid part of a job, in two halves: `ready` (read the context, render the prompt off the
 * event loop, wait for the breaker and the limiter) runs before the job is marked running, so a
 * job waiting for capacity is not "running"; `call` spends the money.
 */
export class Generation {
  constructor(private readonly deps: GenerationDeps) {}

  async ready(job: JobRecord, signal: AbortSignal): Promise<ReadyCall> {
    const context = job.context_ref ? (await this.deps.payloads.get(job.context_ref, signal)).toString('utf8') : undefined;
    const template = this.deps.templates.get(job.request.prompt_version);
    const request: GenerationRequest = { ...job.request, ...(context === undefined ? {} : { context }) };
    const prepared = await this.deps.prepare({ kind: 'prepare', template, request }, signal);
    const ticket = await this.deps.gate.admit({ tenant: job.tenant, priority: job.priority, estimatedTokens: prepared.estimatedTokens, signal });
    return { prepared, maxTokens: template.max_tokens, ticket };
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
