import type { GenerationRequest } from '../../jobs/generation-request.ts';
import { checkOutput, markOwnValues, type OutputCheck, type OutputCheckOptions, type OwnValueMarks } from '../../jobs/output-quality.ts';
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
  /**
   * The request's own values (string inputs, context) located in the prompt for the data-quality
   * gate: the job then keeps the messages it sends and nothing else of its payload.
   */
  ownMarks: OwnValueMarks;
}

/** The data-quality gate on one answer: a scan of its 64 KB prompt, kept off the event loop too. */
export interface CheckTask {
  kind: 'check';
  text: string;
  options: OutputCheckOptions;
}

export type CpuTask = PrepareTask | CheckTask;

/** The values of its own record a request's prompt carries: an answer may quote them. */
export function ownValues(request: GenerationRequest): string[] {
  const values = Object.values(request.inputs).filter((value): value is string => typeof value === 'string');
  return request.context === undefined ? values : [...values, request.context];
}

/**
 * The CPU-bound work of one job, as plain functions of plain data: they run the same inline or in
 * a worker thread. Rendering a 64 KB prompt, estimating its tokens and locating the record's own
 * values in it is the bulk of it.
 */
export function runCpuTask(task: PrepareTask): PreparedPrompt;
export function runCpuTask(task: CheckTask): OutputCheck;
export function runCpuTask(task: CpuTask): PreparedPrompt | OutputCheck;
export function runCpuTask(task: CpuTask): PreparedPrompt | OutputCheck {
  if (task.kind === 'check') return checkOutput(task.text, task.options);
  const messages = renderPrompt(task.template, task.request);
  return {
    messages,
    estimatedTokens: estimateChatTokens(messages, task.template.max_tokens),
    ownMarks: markOwnValues(
      messages.map((message) => message.content),
      ownValues(task.request),
    ),
  };
}
