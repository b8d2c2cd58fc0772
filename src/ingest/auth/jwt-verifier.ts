import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { WardenError } from '../../errors.ts';
import { systemClock, type Clock } from '../../runtime/clock.ts';
import { AuthError } from './auth-error.ts';
import { TENANT_PATTERN, type Principal } from './principal.ts';

/**
 * How signed JWTs are verified. Exactly one key source: `secret` (HMAC, shared with the issuer),
 * `publicKey` (PEM SPKI or a KeyObject), `jwksUrl` (fetched and cached by jose) or `jwks` (a key
 * set held locally). Every token must carry `exp`, `sub` and the tenant claim.
 */
export interface JwtOptions {
  /** HMAC secret, at least 32 bytes (a string is taken as UTF-8). */
  secret?: string | Uint8Array;
  /** An asymmetric public key: PEM (`-----BEGIN PUBLIC KEY-----`) or a Node KeyObject. */
  publicKey?: string | KeyObject;
  /** A JWKS endpoint (https, or http on loopback for tests). */
  jwksUrl?: string;
  /** A JSON Web Key Set held locally. */
  jwks?: JSONWebKeySet;
  /**
   * Accepted `alg` values. Default: `HS256` with a secret; with a public key the one its type
   * implies (RSA → RS256, P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA); with a key set
   * RS256, PS256, ES256 and EdDSA. A symmetric algorithm is never accepted with public keys.
   */
  algorithms?: string[];
  /** Required `iss` value(s); unchecked when absent. */
  issuer?: string | string[];
  /** Required `aud` value(s); unchecked when absent. */
  audience?: string | string[];
  /** The claim that names the tenant (base id). Default `tenant`. */
  tenantClaim?: string;
  /** Allowed clock skew for `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceS?: number;
}

/** Token problems (401); anything else from a remote key set is the verifier failing (503). */
const TOKEN_ERRORS = new Set<string>([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JWSInvalid.code,
  errors.JWTInvalid.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
]);

const ASYMMETRIC_DEFAULT = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const SUB = /^[\x21-\x7e]{1,200}$/;

function algorithmsFor(key: KeyObject): string[] {
  if (key.asymmetricKeyType === 'rsa') return ['RS256'];
  if (key.asymmetricKeyType === 'rsa-pss') return ['PS256'];
  if (key.asymmetricKeyType === 'ed25519') return ['EdDSA', 'Ed25519'];
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return ['ES256'];
    if (curve === 'secp384r1') return ['ES384'];
    if (curve === 'secp521r1') return ['ES512'];
  }
  throw new TypeError(`jwt.publicKey: no default algorithm for a ${key.asymmetricKeyType} key; set jwt.algorithms`);
}

export class JwtVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly remote: boolean;
  private readonly algorithms: string[];
  private readonly tenantClaim: string;
  private readonly clockToleranceS: number;

  constructor(
    private readonly options: JwtOptions,
    private readonly clock: Clock = systemClock,
    private readonly realm = 'warden',
  ) {
    const sources = (['secret', 'publicKey', 'jwksUrl', 'jwks'] as const).filter((name) => options[name] !== undefined);
    if (sources.length !== 1) throw new TypeError(`jwt: give exactly one of secret, publicKey, jwksUrl, jwks (got ${sources.length ? sources.join(', ') : 'none'})`);
    this.remote = options.jwksUrl !== undefined;
    let defaults: string[];
    if (options.secret !== undefined) {
      const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
      if (!(secret instanceof Uint8Array) || secret.length < 32) throw new TypeError('jwt.secret must be at least 32 bytes');
      this.key = secret;
      defaults = ['HS256'];
    } else if (options.publicKey !== undefined) {
      let key: KeyObject;
      try {
        key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
      } catch (error) {
        throw new TypeError(`jwt.publicKey is not a readable public key: ${(error as Error).message}`);
      }
      if (key.type !== 'public') throw new TypeError('jwt.publicKey must be a public key');
      this.key = key;
      defaults = algorithmsFor(key);
    } else if (options.jwksUrl !== undefined) {
      let url: URL;
      try {
        url = new URL(options.jwksUrl);
      } catch {
        throw new TypeError('jwt.jwksUrl is not a URL');
      }
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new TypeError('jwt.jwksUrl must be https (http only on loopback)');
      this.key = createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 30_000 });
      defaults = ASYMMETRIC_DEFAULT;
    } else {
      this.key = createLocalJWKSet(options.jwks as JSONWebKeySet);
      defaults = ASYMMETRIC_DEFAULT;
    }
    this.algorithms = options.algorithms ?? defaults;
    if (!Array.isArray(this.algorithms) || this.algorithms.length === 0 || !this.algorithms.every((alg) => typeof alg === 'string' && alg !== 'none')) {
      throw new TypeError('jwt.algorithms must be a non-empty list of JWS algorithm names');
    }
    if (options.secret === undefined && this.algorithms.some((alg) => alg.startsWith('HS'))) {
      throw new TypeError('jwt.algorithms: HMAC algorithms need jwt.secret, never a public key');
    }
    this.tenantClaim = options.tenantClaim ?? 'tenant';
    this.clockToleranceS = options.clockToleranceS ?? 30;
    if (!Number.isFinite(this.clockToleranceS) || this.clockToleranceS < 0) throw new TypeError('jwt.clockToleranceS must be a non-negative number');
  }

  async verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, this.key as Uint8Array, {
        algorithms: this.algorithms,
        requiredClaims: ['exp', 'sub', this.tenantClaim],
        clockTolerance: this.clockToleranceS,
        currentDate: this.clock.now(),
        ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
      });
      payload = verified.payload as Record<string, unknown>;
    } catch (error) {
      throw this.failure(error);
    }
    const sub = payload['sub'];
    const tenant = payload[this.tenantClaim];
    if (typeof sub !== 'string' || !SUB.test(sub)) throw new AuthError('the token\'s sub claim must be 1..200 visible ASCII characters', { bearerError: 'invalid_token', realm: this.realm });
    if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) {
      throw new AuthError(`the token's ${this.tenantClaim} claim must be a base id`, { bearerError: 'invalid_token', realm: this.realm });
    }
    return { who: `jwt:${sub}`, tenant, kind: 'jwt', credentialId: `jwt:${tenant}:${sub}` };
  }

  private failure(error: unknown): Error {
    const code = error instanceof errors.JOSEError ? error.code : undefined;
    if (code === errors.JWTExpired.code) return new AuthError('the token has expired', { bearerError: 'invalid_token', realm: this.realm, cause: error });
    if (code === errors.JWTClaimValidationFailed.code) {
      const claim = (error as errors.JWTClaimValidationFailed).claim;
      return new AuthError(`the token's ${claim} claim is missing or not acceptable`, { bearerError: 'invalid_token', realm: this.realm, cause: error });
    }
    if (code !== undefined && TOKEN_ERRORS.has(code)) return new AuthError('the token is not valid', { bearerError: 'invalid_token', realm: this.realm, cause: error });
    // With a local key every failure is the token's; with a remote key set it may be the endpoint's.
    if (!this.remote) return new AuthError('the token is not valid', { bearerError: 'invalid_token', realm: this.realm, cause: error });
    return new WardenError('auth_unavailable', 'the token could not be verified now (key set unavailable); try again', { retryable: true, cause: error });
  }
}
