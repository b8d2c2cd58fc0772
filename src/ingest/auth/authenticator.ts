import { WardenError, isWardenError } from '../../errors.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import { hashApiKey, MemoryKeyStore, type ApiKeyRecord, type KeyStore } from './api-keys.ts';
import { AuthError } from './auth-error.ts';
import { JwtVerifier, type JwtOptions } from './jwt-verifier.ts';
import type { Principal, RequestAuthenticator } from './principal.ts';

/** What the ingest API accepts as `Authorization: Bearer <credential>`; at least one of the two. */
export interface AuthOptions {
  /** API keys: a KeyStore, or the records themselves (kept in memory). */
  apiKeys?: KeyStore | readonly ApiKeyRecord[];
  /** Signed JWTs (see JwtOptions). */
  jwt?: JwtOptions;
  /** The realm named in `WWW-Authenticate`. Default `warden`. */
  realm?: string;
}

/** RFC 6750 b64token, bounded. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN = 8192;
/** Three base64url segments: a compact JWS. API keys never contain a dot. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Bearer API keys (stored as SHA-256) and signed JWTs, one header. */
export class Authenticator implements RequestAuthenticator {
  private readonly keys: KeyStore | undefined;
  private readonly jwt: JwtVerifier | undefined;
  private readonly realm: string;

  constructor(options: AuthOptions, clock: Clock = systemClock) {
    if (options === null || typeof options !== 'object') throw new TypeError('auth must be an object {apiKeys?, jwt?}');
    if (options.apiKeys === undefined && options.jwt === undefined) throw new TypeError('auth: configure auth.apiKeys, auth.jwt or both');
    this.realm = options.realm ?? 'warden';
    if (!/^[\x20-\x7e]{1,64}$/.test(this.realm) || /["\\]/.test(this.realm)) throw new TypeError('auth.realm must be 1..64 printable ASCII characters without quotes');
    const keys = options.apiKeys;
    this.keys = keys === undefined ? undefined : Array.isArray(keys) ? new MemoryKeyStore(keys as readonly ApiKeyRecord[]) : (keys as KeyStore);
    if (this.keys !== undefined && typeof this.keys.findBySha256 !== 'function') throw new TypeError('auth.apiKeys must be a KeyStore or a list of {id, tenant, key_sha256}');
    this.jwt = options.jwt === undefined ? undefined : new JwtVerifier(options.jwt, clock, this.realm);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization.trim() === '') throw new AuthError('missing credential: send Authorization: Bearer <API key or JWT>', { realm: this.realm });
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) throw new AuthError('the Authorization header must be Bearer <API key or JWT>', { bearerError: 'invalid_request', realm: this.realm });
    const token = match[1] as string;
    if (token.length > MAX_TOKEN || !TOKEN.test(token)) throw new AuthError('the bearer credential is malformed', { bearerError: 'invalid_token', realm: this.realm });
    if (COMPACT_JWS.test(token)) {
      if (!this.jwt) throw new AuthError('JWT credentials are not accepted here', { bearerError: 'invalid_token', realm: this.realm });
      return this.jwt.verify(token);
    }
    if (!this.keys) throw new AuthError('API keys are not accepted here', { bearerError: 'invalid_token', realm: this.realm });
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.keys.findBySha256(hashApiKey(token));
    } catch (error) {
      if (isWardenError(error) && error.code === 'auth_unavailable') throw error;
      throw new WardenError('auth_unavailable', 'the API key could not be checked now; try again', { retryable: true, cause: error });
    }
    if (!record) throw new AuthError('unknown API key', { bearerError: 'invalid_token', realm: this.realm });
    return { who: `api-key:${record.id}`, tenant: record.tenant, kind: 'api_key', credentialId: `api-key:${record.id}` };
  }
}
