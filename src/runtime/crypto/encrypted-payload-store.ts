import { createHash, randomBytes } from 'node:crypto';
import type { PayloadRef } from '../../jobs/job-record.ts';
import type { PayloadStore } from '../payload-store.ts';
import { PayloadIntegrityError } from '../s3/s3-payload-store.ts';
import type { PayloadCipher } from './payload-cipher.ts';

export interface EncryptedPayloadStoreOptions {
  /**
   * The AAD an object is sealed under, from its stored key. Default `warden-payload/v1\0<key>`:
   * the key names the job and the purpose (`payloads/<job id>/<fingerprint>.context`), so an
   * object copied under another key, of another job, does not open.
   */
  aadFor?: (key: string) => string;
  /**
   * Store each put under `<key>.<16 random hex>` (the returned ref names it). Default true.
   * Sealing is randomized, so two puts of the same bytes under one key would store different
   * ciphertexts, and the second would break the SHA-256 in the first put's ref: a duplicate
   * submission would make the original job's context unreadable. Unreferenced objects of refused
   * duplicates expire with the payload retention.
   */
  uniqueKeys?: boolean;
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * A PayloadStore that seals every payload before it reaches the inner store and opens it after
 * reading. The ref's SHA-256 and size cover the stored (encrypted) bytes, and the digest is
 * checked here unless the inner store says it checks it (a 64 KB context hashed twice per read
 * was a tenth of a millisecond of event loop per job for nothing), so corruption surfaces as
 * `payload_integrity` before any decryption; tampering that keeps the digest (a rewritten ref)
 * still fails the GCM tag as `payload_decrypt_failed`. Both are not retryable.
 */
export class EncryptedPayloadStore implements PayloadStore {
  readonly verifiesDigest = true;
  private readonly aadFor: (key: string) => string;
  private readonly uniqueKeys: boolean;

  constructor(
    private readonly inner: PayloadStore,
    private readonly cipher: PayloadCipher,
    options: EncryptedPayloadStoreOptions = {},
  ) {
    if (options.aadFor !== undefined && typeof options.aadFor !== 'function') throw new TypeError('EncryptedPayloadStore: options.aadFor must be a function');
    if (options.uniqueKeys !== undefined && typeof options.uniqueKeys !== 'boolean') throw new TypeError('EncryptedPayloadStore: options.uniqueKeys must be a boolean');
    this.aadFor = options.aadFor ?? ((key) => `warden-payload/v1\0${key}`);
    this.uniqueKeys = options.uniqueKeys ?? true;
  }

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<PayloadRef> {
    const stored = this.uniqueKeys ? `${key}.${randomBytes(8).toString('hex')}` : key;
    const sealed = await this.cipher.seal(body, this.aadFor(stored), signal);
    return this.inner.put(stored, sealed, signal);
  }

  async get(ref: PayloadRef, signal?: AbortSignal): Promise<Buffer> {
    const sealed = await this.inner.get(ref, signal);
    if (this.inner.verifiesDigest !== true) {
      const actual = sha256(sealed);
      if (actual !== ref.sha256) throw new PayloadIntegrityError(ref.key, ref.sha256, actual);
    }
    return this.cipher.open(sealed, this.aadFor(ref.key), signal);
  }
}
