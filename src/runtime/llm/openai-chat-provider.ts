import { errors as undiciErrors, request } from 'undici';
import { deadlineSignal } from '../http/deadline.ts';
import { ShardedPool } from '../http/sharded-pool.ts';
import { LlmCallError, type Completion, type CompletionRequest, type LlmProvider } from '../llm-provider.ts';

export interface OpenAiChatOptions {
  name: string;
  /** e.g. https://api.openai.com or http://127.0.0.1:PORT; `/v1/chat/completions` is appended. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Keep-alive connections per origin; thousands of slow calls share them. */
  connections: number;
  connectTimeoutMs: number;
  /** Time to the response headers (the provider's queueing plus first token). */
  firstByteTimeoutMs: number;
  /** Sent as `x-warden-member` so gateways (and the simulator) can tell fleet members apart. */
  member?: string;
}

/** `retry-after-ms` (sent by OpenAI and Azure) is finer than `retry-after`; prefer it. */
function retryAfterMs(headers: Record<string, string | string[] | undefined>): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms)) return Math.max(0, ms);
  const header = headers['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function classifyStatus(status: number, body: string, retryAfter: number | undefined): LlmCallError {
  const detail = body.slice(0, 300);
  if (status === 429) return new LlmCallError('llm_rate_limited', `provider answered 429: ${detail}`, { retryable: true, status, retryAfterMs: retryAfter });
  if (status >= 500 || status === 408) return new LlmCallError('llm_unavailable', `provider answered ${status}: ${detail}`, { retryable: true, status, retryAfterMs: retryAfter });
  return new LlmCallError('llm_rejected', `provider answered ${status}: ${detail}`, { retryable: false, status });
}

function classifyThrown(error: unknown, signal: AbortSignal | undefined): LlmCallError {
  if (signal?.aborted && !(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError')) {
    return new LlmCallError('llm_aborted', 'LLM call aborted by its owner', { retryable: true, cause: error });
  }
  const timedOut =
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError ||
    (error instanceof DOMException && error.name === 'TimeoutError') ||
    (error instanceof Error && error.name === 'AbortError');
  if (timedOut) return new LlmCallError('llm_timeout', 'LLM call timed out', { retryable: true, cause: error });
  return new LlmCallError('llm_connection', `LLM call failed: ${(error as Error)?.message ?? String(error)}`, { retryable: true, cause: error });
}

function stringBody(text: string): { body: string; length: number } {
  return { body: text, length: Buffer.byteLength(text) };
}

/**
 * The body as its parts, written one after the other and let go as they are: joined into one
 * buffer, a 64 KB prompt would be held twice for as long as the call is out (seconds), once by
 * the job (its answer is checked against it) and once by the pending request.
 */
function chunkedBody(parts: Uint8Array[]): { body: Iterable<Uint8Array>; length: number } {
  const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
  function* drain(): Generator<Uint8Array> {
    for (let part = parts.shift(); part !== undefined; part = parts.shift()) yield part;
  }
  return { body: drain(), length };
}

interface ChatCompletionBody {
  model?: string;
  choices?: Array<{ message?: { content?: string | null; refusal?: string | null }; finish_reason?: string }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** The OpenAI Chat Completions protocol over sharded undici keep-alive pools (one origin). */
export class OpenAiChatProvider implements LlmProvider {
  readonly name: string;
  private readonly agent: ShardedPool;
  private readonly url: string;
  /** `{"model":…,"messages":` — what precedes encoded messages in every request body. */
  private readonly bodyHead: Buffer;

  constructor(private readonly options: OpenAiChatOptions) {
    this.name = options.name;
    this.bodyHead = Buffer.from(`{"model":${JSON.stringify(options.model)},"messages":`);
    this.url = new URL('v1/chat/completions', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`).toString();
    this.agent = new ShardedPool(new URL(this.url).origin, {
      connections: options.connections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.firstByteTimeoutMs,
      bodyTimeout: 0, // the total budget below bounds the body; a per-chunk timer would only duplicate it
      keepAliveTimeout: 30_000,
    });
  }

  async complete(call: CompletionRequest): Promise<Completion> {
    const deadline = deadlineSignal(call.signal, call.timeoutMs);
    const { body: payload, length } = Array.isArray(call.messages)
      ? stringBody(JSON.stringify({ model: this.options.model, messages: call.messages, ...(call.maxTokens ? { max_tokens: call.maxTokens } : {}) }))
      : // The same bytes JSON.stringify would give, sent around the encoded messages.
        chunkedBody([this.bodyHead, call.messages.json, Buffer.from(call.maxTokens ? `,"max_tokens":${call.maxTokens}}` : '}')]);
    let status: number;
    let text: string;
    let retryAfter: number | undefined;
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: deadline.signal,
        headers: {
          'content-type': 'application/json',
          'content-length': String(length),
          ...(this.options.member ? { 'x-warden-member': this.options.member } : {}),
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        // undici takes iterables of chunks (request.js, and its documentation); its types lag.
        body: payload as string,
      });
      status = response.statusCode;
      retryAfter = retryAfterMs(response.headers);
      text = await response.body.text();
    } catch (error) {
      throw classifyThrown(error, call.signal);
    } finally {
      deadline.release();
    }
    if (status !== 200) throw classifyStatus(status, text, retryAfter);
    let body: ChatCompletionBody;
    try {
      body = JSON.parse(text) as ChatCompletionBody;
    } catch (error) {
      throw new LlmCallError('llm_bad_response', 'provider answered 200 with a body that is not JSON', { retryable: true, cause: error });
    }
    const choice = body.choices?.[0];
    if (choice?.message?.refusal) {
      throw new LlmCallError('llm_refusal', `provider refused: ${choice.message.refusal.slice(0, 200)}`, { retryable: false, status });
    }
    const content = choice?.message?.content;
    if (typeof content !== 'string' || content.length === 0) {
      throw new LlmCallError('llm_empty', 'provider answered without content', { retryable: true, status });
    }
    return {
      text: content,
      model: body.model ?? this.options.model,
      promptTokens: body.usage?.prompt_tokens ?? 0,
      completionTokens: body.usage?.completion_tokens ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
