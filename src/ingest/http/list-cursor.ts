import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../../errors.ts';

const MAC_BYTES = 32;
const MAX_CURSOR_CHARS = 2048;
const DOMAIN = 'warden/list-cursor/v1';
const JOB_ID = /^[0-9a-f]{64}$/;

function invalid(message = 'the cursor is not valid for this query; start again without one'): ValidationError {
  return new ValidationError('invalid_cursor', message);
}

/**
 * The opaque `cursor` of `GET /v1/jobs`: base64url of an HMAC-SHA256 tag followed by the JSON of
 * the DynamoDB start key and a digest of the query's filters. The tag covers the tenant, so a
 * cursor is only good for the tenant that received it and for the same filters; a client can
 * read its own position but cannot forge one. The key is secret per deployment: a cursor outlives
 * neither a key change nor (with the random default) a restart.
 */
export class ListCursorCodec {
  private readonly secret: Buffer;

  constructor(secret?: string | Uint8Array) {
    if (secret === undefined) {
      this.secret = randomBytes(32);
    } else {
      this.secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
      if (this.secret.length < 32) throw new TypeError('cursorSecret must be at least 32 bytes');
    }
  }

  encode(tenant: string, query: string, key: Record<string, string>): string {
    const body = Buffer.from(JSON.stringify({ k: key, q: query }), 'utf8');
    return Buffer.concat([this.mac(tenant, body), body]).toString('base64url');
  }

  /** The start key inside a cursor issued to this tenant for this query, or `invalid_cursor`. */
  decode(cursor: string, tenant: string, query: string): Record<string, string> {
    if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid('the cursor is malformed');
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length <= MAC_BYTES) throw invalid('the cursor is malformed');
    const tag = raw.subarray(0, MAC_BYTES);
    const body = raw.subarray(MAC_BYTES);
    if (!timingSafeEqual(tag, this.mac(tenant, body))) throw invalid();
    let parsed: { k?: unknown; q?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as { k?: unknown; q?: unknown };
    } catch {
      throw invalid('the cursor is malformed');
    }
    if (parsed.q !== query) throw invalid('the cursor belongs to a query with other filters');
    const key = parsed.k as Record<string, unknown> | null;
    // Signed by us, so well-formed unless the format changed; checked anyway before DynamoDB sees it.
    if (
      key === null ||
      typeof key !== 'object' ||
      Object.keys(key).sort().join() !== 'created_at,pk,tenant' ||
      typeof key['pk'] !== 'string' ||
      !JOB_ID.test(key['pk']) ||
      key['tenant'] !== tenant ||
      typeof key['created_at'] !== 'string' ||
      key['created_at'].length > 40
    ) {
      throw invalid('the cursor is malformed');
    }
    return { pk: key['pk'], tenant, created_at: key['created_at'] };
  }

  private mac(tenant: string, body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(DOMAIN).update('\0').update(tenant).update('\0').update(body).digest();
  }
}
