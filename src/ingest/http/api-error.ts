import { WardenError } from '../../errors.ts';

/** A refusal of the API itself that needs response headers (`Allow`, `Retry-After`). */
export class ApiError extends WardenError {
  constructor(
    code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, { retryable: code === 'rate_limited' });
  }
}
