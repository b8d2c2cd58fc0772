import { WardenError } from '../errors.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  /** Total budget for the call, connect to last byte. */
  timeoutMs: number;
  signal?: AbortSignal;
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
