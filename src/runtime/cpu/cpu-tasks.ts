import type { GenerationRequest } from '../../jobs/generation-request.ts';
import { checkOutput, markOwnValues, type OutputCheck, type OutputCheckOptions, type OwnValueMarks } from '../../jobs/output-quality.ts';
import { renderPrompt, type PromptTemplate } from '../../jobs/prompt-template.ts';
import { estimateChatTokens } from '../../jobs/token-estimate.ts';
import { decodeMessages, type EncodedMessages } from '../llm-provider.ts';

export interface PrepareTask {
  kind: 'prepare';
  template: PromptTemplate;
  request: GenerationRequest;
  /**
   * The prompt context as the payload store read it (UTF-8), in place of `request.context`: the
   * bytes move to the worker thread, which decodes them, so the event loop never builds, copies
   * or collects a 64 KB context string.
   */
  contextBytes?: Uint8Array;
}

export interface PreparedPrompt {
  /** The rendered messages, encoded: sent as they are, checked against on the worker thread. */
  messages: EncodedMessages;
  estimatedTokens: number;
  /**
   * The request's own values (string inputs, context) located in the prompt for the data-quality
   * gate: the job then keeps the messages it sends and nothing else of its payload.
   */
  ownMarks: OwnValueMarks;
}

/** What the data-quality gate checks an answer against, but the prompt (that comes encoded). */
export type AnswerCheckOptions = Omit<OutputCheckOptions, 'prompt'>;

/** The data-quality gate on one answer: a scan of its 64 KB prompt, kept off the event loop too. */
export interface CheckTask {
  kind: 'check';
  text: string;
  options: AnswerCheckOptions;
  messages: EncodedMessages;
}

export type CpuTask = PrepareTask | CheckTask;

/** The values of its own record a request's prompt carries: an answer may quote them. */
export function ownValues(request: GenerationRequest): string[] {
  const values = Object.values(request.inputs).filter((value): value is string => typeof value === 'string');
  return request.context === undefined ? values : [...values, request.context];
}

const utf8 = new TextEncoder();

/** Decoded as `Buffer#toString('utf8')` decodes a payload: malformed bytes become U+FFFD. */
function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * The CPU-bound work of one job, as plain functions of plain data: they run the same inline or in
 * a worker thread. Rendering a 64 KB prompt, estimating its tokens and locating the record's own
 * values in it is the bulk of it; checking the answer against that prompt is the rest.
 */
export function runCpuTask(task: PrepareTask): PreparedPrompt;
export function runCpuTask(task: CheckTask): OutputCheck;
export function runCpuTask(task: CpuTask): PreparedPrompt | OutputCheck;
export function runCpuTask(task: CpuTask): PreparedPrompt | OutputCheck {
  if (task.kind === 'check') {
    return checkOutput(task.text, { ...task.options, prompt: decodeMessages(task.messages).map((message) => message.content) });
  }
  const request = task.contextBytes === undefined ? task.request : { ...task.request, context: utf8Text(task.contextBytes) };
  const messages = renderPrompt(task.template, request);
  return {
    // TextEncoder gives the bytes a buffer of their own, so the worker can hand it over whole.
    messages: { json: utf8.encode(JSON.stringify(messages)) },
    estimatedTokens: estimateChatTokens(messages, task.template.max_tokens),
    ownMarks: markOwnValues(
      messages.map((message) => message.content),
      ownValues(request),
    ),
  };
}
