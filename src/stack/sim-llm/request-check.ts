/**
 * Validates a Chat Completions request body the way the OpenAI API does, so a runtime
 * bug in request building shows up as a 400 here and not as a silent success.
 */
import { invalidRequest, type OpenAiErrorBody } from './openai-errors.ts';

export interface ChatMessage {
  role: string;
  content: unknown;
  [key: string]: unknown;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  [key: string]: unknown;
}

export type CheckResult = { ok: true; request: ChatRequest } | { ok: false; status: number; body: OpenAiErrorBody };

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

const fail = (message: string, param: string | null, code: string | null = null, status = 400): CheckResult =>
  ({ ok: false, status, body: invalidRequest(message, param, code) });

function checkContent(m: Record<string, unknown>, i: number): CheckResult | null {
  const c = m.content;
  const param = `messages.[${i}].content`;
  if (typeof c === 'string') return null;
  // Assistant turns that only carry tool calls have null content.
  if (c === null || c === undefined) {
    return m.role === 'assistant' ? null : fail(`Invalid value for 'content': expected a string, got ${c === null ? 'null' : 'undefined'}.`, param);
  }
  if (!Array.isArray(c)) return fail(`Invalid type for '${param}': expected one of a string or array of objects.`, param, 'invalid_type');
  for (const [j, part] of c.entries()) {
    if (!part || typeof part !== 'object' || typeof (part as { type?: unknown }).type !== 'string') {
      return fail(`Invalid type for '${param}.[${j}]': expected an object with a 'type'.`, `${param}.[${j}]`, 'invalid_type');
    }
  }
  return null;
}

export function checkChatRequest(body: unknown, models: ReadonlySet<string> | null): CheckResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return fail('The request body must be a JSON object.', null);
  }
  const b = body as Record<string, unknown>;
  if (b.model === undefined) return fail('you must provide a model parameter', 'model', 'missing_required_parameter');
  if (typeof b.model !== 'string' || b.model === '') return fail("Invalid type for 'model': expected a string.", 'model', 'invalid_type');
  if (b.messages === undefined) return fail("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(b.messages)) return fail("Invalid type for 'messages': expected an array.", 'messages', 'invalid_type');
  if (b.messages.length === 0) return fail("Invalid 'messages': empty array. Expected an array with minimum length 1.", 'messages', 'empty_array');
  for (const [i, m] of (b.messages as unknown[]).entries()) {
    if (!m || typeof m !== 'object' || Array.isArray(m)) {
      return fail(`Invalid type for 'messages.[${i}]': expected an object.`, `messages.[${i}]`, 'invalid_type');
    }
    const role = (m as Record<string, unknown>).role;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      return fail(`Invalid value for 'messages.[${i}].role'.`, `messages.[${i}].role`, 'invalid_value');
    }
    const bad = checkContent(m as Record<string, unknown>, i);
    if (bad) return bad;
  }
  if (b.stream === true) {
    // Streaming is out of scope for the simulator; the runtime uses whole responses.
    return fail('stream=true is not supported by the simulated LLM.', 'stream', 'unsupported_value');
  }
  if (b.n !== undefined && b.n !== null && b.n !== 1) return fail('Only n=1 is supported by the simulated LLM.', 'n', 'unsupported_value');
  if (b.temperature !== undefined && b.temperature !== null
    && (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 2)) {
    return fail("Invalid 'temperature': expected a number between 0 and 2.", 'temperature', 'invalid_value');
  }
  for (const key of ['max_tokens', 'max_completion_tokens']) {
    const v = b[key];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
      return fail(`Invalid '${key}': expected an integer >= 1.`, key, 'invalid_value');
    }
  }
  if (models && !models.has(b.model)) {
    return fail(`The model \`${b.model}\` does not exist or you do not have access to it.`, null, 'model_not_found', 404);
  }
  return { ok: true, request: b as ChatRequest };
}
