/** Bytes of every data key: AES-256. */
export const DATA_KEY_BYTES = 32;

/** A data key as it may be stored: wrapped by the key-encryption key named by `keyId`. */
export interface WrappedDataKey {
  keyId: string;
  wrapped: Buffer;
}

/** A fresh data key: the plaintext (kept in memory only) and its wrapped form (stored). */
export interface GeneratedDataKey extends WrappedDataKey {
  dataKey: Buffer;
}

/**
 * The key-encryption key (KEK) port: it wraps and unwraps data keys and never hands out its own
 * key material. KMS in production (`KmsKek`), a local key file for the local stack
 * (`LocalKeyFileKek`). Implementations must keep key bytes out of error messages and out of
 * anything `JSON.stringify` or `util.inspect` would print.
 */
export interface KeyEncryptionKey {
  /** The key new data keys are wrapped under (an id, never key material). */
  readonly keyId: string;
  /** Mints a fresh 256-bit data key and wraps it (KMS: one GenerateDataKey call). */
  generateDataKey(signal?: AbortSignal): Promise<GeneratedDataKey>;
  /** Wraps a data key the caller already holds. */
  wrap(dataKey: Buffer, signal?: AbortSignal): Promise<WrappedDataKey>;
  /**
   * Unwraps a stored data key. A wrapped key that is not authentic, or names a key this KEK does
   * not hold, throws PayloadDecryptError (not retryable); an unavailable key service throws
   * KeyServiceError (retryable).
   */
  unwrap(wrapped: WrappedDataKey, signal?: AbortSignal): Promise<Buffer>;
}
