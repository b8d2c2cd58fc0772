import { WardenError } from '../errors.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * The messages of a request as the UTF-8 bytes of their JSON array, encoded once where the prompt
 * is rendered (a worker thread): the event loop then never stringifies, copies or garbage-collects
 * a 64 KB prompt as a string, and sends these bytes as they are.
 */
export interface EncodedMessages {
  json: Uint8Array;
}

export interface CompletionRequest {
  messages: ChatMessage[] | EncodedMessages;
  maxTokens?: number;
  /** Total budget for the call, connect to last byte. */
  timeoutMs: number;
  signal?: AbortSignal;
}

const utf8 = new TextDecoder();

/** The messages themselves, decoded when they came encoded. */
export function decodeMessages(messages: ChatMessage[] | EncodedMessages): ChatMessage[] {
  return Array.isArray(messages) ? messages : (JSON.parse(utf8.decode(messages.json)) as ChatMessage[]);
}

export interface Completion {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/** The one port every provider adapter implements. */
export interface LlmProvider {
  readonly name: string;
  complete(request: CompletionRequest): Promise<Completion>;
  close(): Promise<void>;
}

/**
 * A failed LLM call, classified. `retryable` separates transient failures (timeouts, resets,
 * 429, 5xx) from permanent ones (4xx, refusals); `retryAfterMs` carries the provider's hint.
 */
export class LlmCallError extends WardenError {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(code, message, { retryable: options.retryable, cause: options.cause, details: { status: options.status } });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
