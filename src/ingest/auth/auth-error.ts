import { WardenError } from '../../errors.ts';

/** RFC 6750 error codes carried in `WWW-Authenticate`. */
export type BearerError = 'invalid_request' | 'invalid_token';

/**
 * A request without a usable credential: 401 with a `WWW-Authenticate: Bearer` challenge. A
 * missing credential gets the bare challenge (RFC 6750 §3.1: no error code when none was sent).
 */
export class AuthError extends WardenError {
  readonly headers: Record<string, string>;

  constructor(message: string, options: { bearerError?: BearerError; realm?: string; cause?: unknown } = {}) {
    super('unauthorized', message, { retryable: false, cause: options.cause });
    const realm = options.realm ?? 'warden';
    // The description is ours and ASCII; quotes and backslashes are kept out of the quoted-string.
    const description = message.replace(/["\\\r\n]/g, "'");
    this.headers = {
      'www-authenticate': options.bearerError
        ? `Bearer realm="${realm}", error="${options.bearerError}", error_description="${description}"`
        : `Bearer realm="${realm}"`,
    };
  }
}
