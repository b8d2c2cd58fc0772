import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PayloadDecryptError } from './crypto-errors.ts';
import { DataKeyCache } from './data-key-cache.ts';
import { decodeEnvelope, encodeEnvelope, encodeHeader, IV_BYTES } from './envelope-format.ts';
import type { KeyEncryptionKey, WrappedDataKey } from './key-encryption-key.ts';
import { DEFAULT_DATA_KEY_REUSE, SealingKey, type DataKeyReuse } from './sealing-key.ts';

export interface PayloadCipherOptions {
  kek: KeyEncryptionKey;
  /** Unwrapped data keys kept in memory (LRU, keyed by wrapped key). Default 1024; 0 disables. */
  cacheSize?: number;
  /** How many payloads, and for how long, one data key seals. Default 1000 payloads, 5 minutes. */
  dataKeyReuse?: Partial<DataKeyReuse>;
  /** Clock for the data key's age (tests). */
  now?: () => number;
}

/** What an envelope holds, named in its AAD: the same job's context cannot pass for its result. */
export type EnvelopePurpose = 'prompt_context' | 'llm_result' | 'raw_response' | 'request';

/**
 * The AAD that binds an envelope to its job and purpose. Opening it under any other job id or
 * purpose fails authentication, so a ciphertext copied to another job's item or object is useless.
 */
export function payloadAad(jobId: string, purpose: EnvelopePurpose): string {
  if (typeof jobId !== 'string' || jobId === '') throw new TypeError('payloadAad: jobId must be a non-empty string');
  return `warden/v1\0job=${jobId}\0purpose=${purpose}`;
}

// 'W' 'E' 0x01 encodes to "V0UB" in base64: every sealed text starts so.
const SEALED_TEXT = /^V0UB[A-Za-z0-9+/]*={0,2}$/;

/** Whether a string looks like `sealText` output (for items written before encryption was on). */
export function isSealedText(value: unknown): value is string {
  return typeof value === 'string' && value.length % 4 === 0 && SEALED_TEXT.test(value);
}

function checkAad(aad: unknown, method: string): Buffer {
  if (typeof aad !== 'string' || aad === '') throw new TypeError(`PayloadCipher.${method}: aad must be a non-empty string`);
  return Buffer.from(aad, 'utf8');
}

/** GCM AAD: the envelope header (key id, wrapped key, version), then the caller's binding. */
function gcmAad(header: Buffer, aad: Buffer): Buffer {
  return Buffer.concat([header, Buffer.from([0]), aad]);
}

/**
 * Envelope encryption of payloads: an AES-256-GCM data key (fresh every `dataKeyReuse` payloads
 * or minutes), wrapped by the key-encryption key and stored in the envelope with a random 12-byte
 * IV and the 16-byte tag.
 * `open` authenticates everything (header, ciphertext and the caller's AAD) before it returns a
 * byte; every failure is a PayloadDecryptError (`payload_decrypt_failed`, not retryable).
 */
export class PayloadCipher {
  private readonly kek: KeyEncryptionKey;
  private readonly cache: DataKeyCache;
  private readonly sealingKey: SealingKey;
  /** Concurrent opens of one envelope share one unwrap. */
  private readonly unwrapping = new Map<string, Promise<Buffer>>();

  constructor(options: PayloadCipherOptions) {
    if (!options?.kek || typeof options.kek.generateDataKey !== 'function' || typeof options.kek.unwrap !== 'function') {
      throw new TypeError('PayloadCipher: options.kek must be a KeyEncryptionKey');
    }
    const cacheSize = options.cacheSize ?? 1024;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new TypeError('PayloadCipher: options.cacheSize must be an integer >= 0');
    this.kek = options.kek;
    this.cache = new DataKeyCache(cacheSize);
    this.sealingKey = new SealingKey(this.kek, { ...DEFAULT_DATA_KEY_REUSE, ...options.dataKeyReuse }, options.now);
  }

  /** Unwrapped data keys held in memory now (never more than cacheSize). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  async seal(plaintext: Buffer, aad: string, signal?: AbortSignal): Promise<Buffer> {
    if (!Buffer.isBuffer(plaintext)) throw new TypeError('PayloadCipher.seal: plaintext must be a Buffer');
    const binding = checkAad(aad, 'seal');
    const { dataKey, keyId, wrapped } = await this.sealingKey.take(signal);
    const header = encodeHeader(keyId, wrapped);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(gcmAad(header, binding));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    // Whoever sealed a payload often reads it back soon (a context on the job's first attempt).
    this.cache.set(cacheId({ keyId, wrapped }), dataKey);
    return encodeEnvelope(header, iv, cipher.getAuthTag(), ciphertext);
  }

  async open(envelope: Buffer, aad: string, signal?: AbortSignal): Promise<Buffer> {
    const binding = checkAad(aad, 'open');
    const parts = decodeEnvelope(envelope);
    const dataKey = await this.dataKey({ keyId: parts.keyId, wrapped: parts.wrapped }, signal);
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, parts.iv);
      decipher.setAAD(gcmAad(parts.header, binding));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
    } catch {
      throw new PayloadDecryptError('authentication_failed', { keyId: parts.keyId });
    }
  }

  /** Seals a string for a DynamoDB attribute (the memoized result): base64 of the envelope. */
  async sealText(text: string, aad: string, signal?: AbortSignal): Promise<string> {
    if (typeof text !== 'string') throw new TypeError('PayloadCipher.sealText: text must be a string');
    return (await this.seal(Buffer.from(text, 'utf8'), aad, signal)).toString('base64');
  }

  async openText(sealed: string, aad: string, signal?: AbortSignal): Promise<string> {
    if (!isSealedText(sealed)) throw new PayloadDecryptError('malformed_envelope');
    const plaintext = await this.open(Buffer.from(sealed, 'base64'), aad, signal);
    return plaintext.toString('utf8');
  }

  private dataKey(wrapped: WrappedDataKey, signal: AbortSignal | undefined): Promise<Buffer> {
    const id = cacheId(wrapped);
    const cached = this.cache.get(id);
    if (cached) return Promise.resolve(cached);
    let pending = this.unwrapping.get(id);
    if (!pending) {
      // Copies: the envelope's buffer belongs to the caller and may be reused after we return.
      // The first caller's signal governs the shared unwrap; a joiner that sees its abort retries.
      pending = this.kek
        .unwrap({ keyId: wrapped.keyId, wrapped: Buffer.from(wrapped.wrapped) }, signal)
        .then((key) => {
          this.cache.set(id, key);
          return key;
        })
        .finally(() => this.unwrapping.delete(id));
      this.unwrapping.set(id, pending);
    }
    return pending;
  }
}

function cacheId(wrapped: WrappedDataKey): string {
  return `${wrapped.keyId}\0${wrapped.wrapped.toString('base64')}`;
}
