import type { GeneratedDataKey, KeyEncryptionKey } from './key-encryption-key.ts';

/** How long one data key seals new payloads before a fresh one is minted. */
export interface DataKeyReuse {
  /** Payloads one data key seals; 1 mints a key per payload. Default 1000. */
  maxMessages: number;
  /** Age after which a data key seals nothing more, in ms. Default 300,000 (5 minutes). */
  maxAgeMs: number;
}

export const DEFAULT_DATA_KEY_REUSE: DataKeyReuse = { maxMessages: 1000, maxAgeMs: 300_000 };

/**
 * The data key new payloads are sealed with, reused for a bounded number of payloads and a
 * bounded time (as a caching materials manager does): a fresh key per payload is one KMS
 * GenerateDataKey per job result and per submitted context, which at 25,000 jobs a minute is a
 * KMS bill and a request quota of its own. Each payload still gets a random 96-bit IV and an AAD
 * naming its job and purpose; 1,000 messages per key is far below AES-GCM's 2^32 bound for
 * random IVs. One mint at a time: concurrent seals that find the key spent share the next one.
 */
export class SealingKey {
  private current: { key: GeneratedDataKey; uses: number; expiresAt: number } | undefined;
  private minting: Promise<void> | undefined;

  constructor(
    private readonly kek: KeyEncryptionKey,
    private readonly reuse: DataKeyReuse,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(reuse.maxMessages) || reuse.maxMessages < 1) throw new TypeError('PayloadCipher: dataKeyReuse.maxMessages must be an integer >= 1');
    if (!Number.isInteger(reuse.maxAgeMs) || reuse.maxAgeMs < 1) throw new TypeError('PayloadCipher: dataKeyReuse.maxAgeMs must be an integer >= 1');
  }

  /** The key to seal one more payload with. */
  async take(signal?: AbortSignal): Promise<GeneratedDataKey> {
    if (this.reuse.maxMessages === 1) return this.kek.generateDataKey(signal);
    for (;;) {
      signal?.throwIfAborted();
      const current = this.current;
      if (current && current.uses < this.reuse.maxMessages && this.now() < current.expiresAt) {
        current.uses += 1;
        return current.key;
      }
      // No caller's signal on the shared mint: one job's abort must not fail the others waiting.
      this.minting ??= this.kek
        .generateDataKey()
        .then((key) => {
          this.current = { key, uses: 0, expiresAt: this.now() + this.reuse.maxAgeMs };
        })
        .finally(() => {
          this.minting = undefined;
        });
      await this.minting;
    }
  }
}
