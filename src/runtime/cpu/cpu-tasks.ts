import type { GenerationRequest } from '../../jobs/generation-request.ts';
import { renderPrompt, type PromptTemplate } from '../../jobs/prompt-template.ts';
import { estimateChatTokens } from '../../jobs/token-estimate.ts';

export interface PrepareTask {
  kind: 'prepare';
  template: PromptTemplate;
  request: GenerationRequest;
}

export interface PreparedPrompt {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  estimatedTokens: number;
}

export type CpuTask = PrepareTask;

/**
 * The CPU-bound work of one job, as plain functions of plain data: they run the same inline or in
 * a worker thread. Rendering a 64 KB prompt and estimating its tokens is the bulk of it.
 */
export function runCpuTask(task: CpuTask): PreparedPrompt {
  const messages = renderPrompt(task.template, task.request);
  return { messages, estimatedTokens: estimateChatTokens(messages, task.template.max_tokens) };
}
