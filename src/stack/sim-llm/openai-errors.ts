/** OpenAI error bodies, shaped as the real API sends them so client error handling is exercised. */

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAiError(message: string, type: string, param: string | null = null, code: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null): OpenAiErrorBody =>
  openAiError(message, 'invalid_request_error', param, code);

export const serverErrorBody = (status: number): OpenAiErrorBody =>
  status === 503
    ? openAiError('The engine is currently overloaded, please try again later.', 'server_error', null, null)
    : openAiError('The server had an error while processing your request. Sorry about that!', 'server_error', null, null);

export const rateLimitBody = (model: string): OpenAiErrorBody =>
  openAiError(`Rate limit reached for ${model} (simulated). Please try again later.`, 'requests', null, 'rate_limit_exceeded');

/** A body for a forced status that is neither 429 nor 5xx. */
export function forcedErrorBody(status: number, model: string): OpenAiErrorBody {
  if (status === 429) return rateLimitBody(model);
  if (status >= 500) return serverErrorBody(status);
  return invalidRequest(`Simulated status ${status}.`, null, 'simulated_status');
}
