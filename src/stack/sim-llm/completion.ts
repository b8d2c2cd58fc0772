/** Builds the deterministic chat.completion answers of the simulated LLM. */
import { findInputs, formatMarker, messageText, type InputValues } from '../sim-tags.ts';
import type { ChatRequest } from './request-check.ts';

const SUMMARY_WORDS = 12;
export const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";

/** ceil(chars / 4): the rough rule of thumb tokenizers average out to for English text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function promptTokens(request: ChatRequest): number {
  return request.messages.reduce((sum, m) => sum + estimateTokens(messageText(m.content)), 0);
}

function sourceWords(request: ChatRequest, inputs: InputValues | null): string[] {
  let text: string;
  if (inputs) {
    text = Object.keys(inputs).sort().map((k) => inputs[k]).filter((v) => v !== null).join(' ');
  } else {
    const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
    text = lastUser ? messageText(lastUser.content) : '';
  }
  return text.split(/\s+/).filter(Boolean);
}

/** The "generated" text plus the marker: same prompt, same content, so replays are recognisable. */
export function generateContent(request: ChatRequest, digest: string): string {
  let inputs: InputValues | null = findInputs(request.messages);
  let marker: string;
  try {
    marker = formatMarker(digest, inputs);
  } catch {
    // Field ids the tag cannot carry: answer anyway, without a stale check.
    inputs = null;
    marker = formatMarker(digest, null);
  }
  const words = sourceWords(request, inputs);
  const head = words.slice(0, SUMMARY_WORDS).join(' ');
  const summary = words.length === 0 ? 'Summary: (nothing to summarise).' : `Summary of ${head}${words.length > SUMMARY_WORDS ? '…' : '.'}`;
  return summary + marker;
}

export interface CompletionInit {
  id: string;
  request: ChatRequest;
  content: string | null;
  refusal: string | null;
  createdS: number;
}

export function buildCompletion(init: CompletionInit): Record<string, unknown> {
  const prompt = promptTokens(init.request);
  const completion = estimateTokens(init.content ?? init.refusal ?? '');
  return {
    id: init.id,
    object: 'chat.completion',
    created: init.createdS,
    model: init.request.model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: init.content, refusal: init.refusal },
      logprobs: null,
      finish_reason: 'stop',
    }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    system_fingerprint: 'fp_warden_sim',
  };
}
