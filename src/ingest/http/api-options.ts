import { WardenError } from '../../errors.ts';
import type { AuthOptions } from '../auth/authenticator.ts';
import type { RequestAuthenticator } from '../auth/principal.ts';
import type { RateLimiter, TokenBucketOptions } from './rate-limit.ts';
import type { ResultReader } from './result-reader.ts';

/**
 * How IngestApi authenticates, limits and reads results. Checked at construction.
 *
 * - `auth`: API keys and/or JWTs (`AuthOptions`), or any `RequestAuthenticator`. Required unless
 *   `allowAnonymous` is true.
 * - `allowAnonymous` (default false): no authentication; the tenant is the body's `base_id` on
 *   submit, `?base_id=` on list, and any job may be read or cancelled by id. Local demo only;
 *   refused together with `auth`.
 * - `readResult` (default: the stored text): decrypts and access-logs a result read.
 * - `rateLimit` (default `{ ratePerSecond: 20, burst: 40 }` per credential, in process): token
 *   bucket options, a `RateLimiter` (e.g. one on Redis for a fleet-wide budget), or `false`.
 * - `cursorSecret` (default: random per process): HMAC key of list cursors, ≥ 32 bytes; set it
 *   (the same on every instance) so cursors survive restarts and work across instances.
 */
export interface IngestApiOptions {
  auth?: AuthOptions | RequestAuthenticator;
  allowAnonymous?: boolean;
  readResult?: ResultReader;
  rateLimit?: TokenBucketOptions | RateLimiter | false;
  cursorSecret?: string | Uint8Array;
}

export function isRequestAuthenticator(value: unknown): value is RequestAuthenticator {
  return value !== null && typeof value === 'object' && typeof (value as { authenticate?: unknown }).authenticate === 'function';
}

export function isRateLimiter(value: unknown): value is RateLimiter {
  return value !== null && typeof value === 'object' && typeof (value as { take?: unknown }).take === 'function';
}

/** The refusal to start an open API by accident. */
export function checkAuthChoice(options: IngestApiOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('IngestApi: options must be an object');
  if (options.allowAnonymous !== undefined && typeof options.allowAnonymous !== 'boolean') throw new TypeError('IngestApi: options.allowAnonymous must be a boolean');
  if (options.auth !== undefined && options.allowAnonymous) {
    throw new TypeError('IngestApi: options.allowAnonymous cannot be combined with options.auth');
  }
  if (options.auth === undefined && options.allowAnonymous !== true) {
    throw new WardenError(
      'auth_not_configured',
      'IngestApi: no authentication configured; set options.auth (API keys and/or JWT: see src/ingest/auth/README.md), or options.allowAnonymous: true for a local demo only',
    );
  }
  if (options.readResult !== undefined && typeof options.readResult !== 'function') throw new TypeError('IngestApi: options.readResult must be a function (job, caller) => Promise<string>');
}
