import { readFileSync } from 'node:fs';
import { apiKeysFromEnv } from './api-keys.ts';
import type { AuthOptions } from './authenticator.ts';
import type { JwtOptions } from './jwt-verifier.ts';

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/**
 * The ingest API's authentication from the environment (documented in src/ingest/auth/README.md):
 *
 *   WARDEN_API_KEYS           JSON [{"id","tenant","key_sha256"}]   (or WARDEN_API_KEYS_FILE: a path)
 *   WARDEN_JWT_SECRET         HMAC secret, ≥ 32 bytes (HS256)
 *   WARDEN_JWT_PUBLIC_KEY     PEM public key                         (or WARDEN_JWT_PUBLIC_KEY_FILE)
 *   WARDEN_JWT_JWKS_URL       JWKS endpoint
 *   WARDEN_JWT_ALGORITHMS     comma-separated, overrides the default for the key
 *   WARDEN_JWT_ISSUER         required iss (comma-separated for several)
 *   WARDEN_JWT_AUDIENCE       required aud (comma-separated for several)
 *   WARDEN_JWT_TENANT_CLAIM   default "tenant"
 *
 * Undefined when nothing is configured: the caller then decides (IngestApi refuses to start
 * without auth unless allowAnonymous is set).
 */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): AuthOptions | undefined {
  const apiKeys = apiKeysFromEnv(env);
  const jwt = jwtFromEnv(env);
  if (!apiKeys && !jwt) return undefined;
  return { ...(apiKeys ? { apiKeys } : {}), ...(jwt ? { jwt } : {}) };
}

function jwtFromEnv(env: NodeJS.ProcessEnv): JwtOptions | undefined {
  const pemFile = env['WARDEN_JWT_PUBLIC_KEY_FILE'];
  if (env['WARDEN_JWT_PUBLIC_KEY'] && pemFile) throw new TypeError('set WARDEN_JWT_PUBLIC_KEY or WARDEN_JWT_PUBLIC_KEY_FILE, not both');
  let publicKey = env['WARDEN_JWT_PUBLIC_KEY'] || undefined;
  if (pemFile) {
    try {
      publicKey = readFileSync(pemFile, 'utf8');
    } catch (error) {
      throw new TypeError(`WARDEN_JWT_PUBLIC_KEY_FILE (${pemFile}) is not readable: ${(error as Error).message}`);
    }
  }
  const sources = {
    secret: env['WARDEN_JWT_SECRET'] || undefined,
    publicKey,
    jwksUrl: env['WARDEN_JWT_JWKS_URL'] || undefined,
  };
  const given = Object.entries(sources).filter(([, value]) => value !== undefined);
  if (given.length === 0) return undefined;
  if (given.length > 1) throw new TypeError('set one of WARDEN_JWT_SECRET, WARDEN_JWT_PUBLIC_KEY(_FILE), WARDEN_JWT_JWKS_URL');
  const [name, value] = given[0] as [keyof typeof sources, string];
  const algorithms = list(env['WARDEN_JWT_ALGORITHMS']);
  const issuer = list(env['WARDEN_JWT_ISSUER']);
  const audience = list(env['WARDEN_JWT_AUDIENCE']);
  const tenantClaim = env['WARDEN_JWT_TENANT_CLAIM'] || undefined;
  return {
    [name]: value,
    ...(algorithms ? { algorithms } : {}),
    ...(issuer ? { issuer } : {}),
    ...(audience ? { audience } : {}),
    ...(tenantClaim ? { tenantClaim } : {}),
  };
}
