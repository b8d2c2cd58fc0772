import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TENANT_PATTERN } from './principal.ts';

/**
 * One API key as stored: only its SHA-256, never the key. `id` names the key in logs, the access
 * log and rate limits (`api-key:<id>`); `tenant` is the base id it may act for.
 */
export interface ApiKeyRecord {
  id: string;
  tenant: string;
  /** Lowercase hex SHA-256 of the whole key string as the client sends it. */
  key_sha256: string;
}

/** Where API keys are looked up. A keyed lookup by digest: the key itself is never stored. */
export interface KeyStore {
  findBySha256(keySha256: string): Promise<ApiKeyRecord | undefined>;
}

const KEY_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (`wdn_` + 32 random bytes, base64url) and the record to store for it. */
export function generateApiKey(id: string, tenant: string): { key: string; record: ApiKeyRecord } {
  const key = `wdn_${randomBytes(32).toString('base64url')}`;
  return { key, record: checkApiKeyRecord({ id, tenant, key_sha256: hashApiKey(key) }, 'generateApiKey') };
}

function checkApiKeyRecord(value: unknown, where: string): ApiKeyRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${where} must be an object {id, tenant, key_sha256}`);
  const { id, tenant, key_sha256: digest, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new TypeError(`${where} has an unknown field '${extra[0]}'`);
  if (typeof id !== 'string' || !KEY_ID.test(id)) throw new TypeError(`${where}.id must match ${KEY_ID}`);
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) throw new TypeError(`${where}.tenant must be a base id matching ${TENANT_PATTERN}`);
  if (typeof digest !== 'string' || !SHA256_HEX.test(digest.toLowerCase())) {
    throw new TypeError(`${where}.key_sha256 must be the 64-hex-digit SHA-256 of the key`);
  }
  return { id, tenant, key_sha256: digest.toLowerCase() };
}

/** Checks a list of key records (ids and digests unique); messages name the entry and field. */
export function parseApiKeyList(value: unknown, source = 'apiKeys'): ApiKeyRecord[] {
  if (!Array.isArray(value)) throw new TypeError(`${source} must be a JSON array of {id, tenant, key_sha256}`);
  const records = value.map((entry, i) => checkApiKeyRecord(entry, `${source}[${i}]`));
  const ids = new Set<string>();
  const digests = new Set<string>();
  records.forEach((record, i) => {
    if (ids.has(record.id)) throw new TypeError(`${source}[${i}].id '${record.id}' is used twice`);
    if (digests.has(record.key_sha256)) throw new TypeError(`${source}[${i}].key_sha256 is used twice (one key, two records)`);
    ids.add(record.id);
    digests.add(record.key_sha256);
  });
  return records;
}

/** KeyStore over a fixed list (from config, the environment or a test). */
export class MemoryKeyStore implements KeyStore {
  private readonly byDigest: Map<string, ApiKeyRecord>;

  constructor(records: readonly ApiKeyRecord[]) {
    this.byDigest = new Map(parseApiKeyList(records).map((record) => [record.key_sha256, record]));
  }

  get size(): number {
    return this.byDigest.size;
  }

  // A map lookup by digest: what an attacker can time is the digest of its own guess, which says
  // nothing about stored keys.
  async findBySha256(keySha256: string): Promise<ApiKeyRecord | undefined> {
    return this.byDigest.get(keySha256);
  }
}

/**
 * API keys from the environment: `WARDEN_API_KEYS` (the JSON array inline) or
 * `WARDEN_API_KEYS_FILE` (a path to a file holding it); both at once is a mistake. Undefined when
 * neither is set.
 */
export function apiKeysFromEnv(env: NodeJS.ProcessEnv = process.env): ApiKeyRecord[] | undefined {
  const inline = env['WARDEN_API_KEYS'];
  const file = env['WARDEN_API_KEYS_FILE'];
  if (inline && file) throw new TypeError('set WARDEN_API_KEYS or WARDEN_API_KEYS_FILE, not both');
  if (!inline && !file) return undefined;
  const source = inline ? 'WARDEN_API_KEYS' : `WARDEN_API_KEYS_FILE (${file})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(inline ?? readFileSync(file as string, 'utf8'));
  } catch (error) {
    throw new TypeError(`${source} is not readable JSON: ${(error as Error).message}`);
  }
  return parseApiKeyList(parsed, source);
}
