import { KeyServiceError, PayloadDecryptError } from './crypto-errors.ts';
import { DATA_KEY_BYTES, type GeneratedDataKey, type KeyEncryptionKey, type WrappedDataKey } from './key-encryption-key.ts';

type CallOptions = { abortSignal?: AbortSignal };

/**
 * The three KMS operations the adapter needs, shaped like the `@aws-sdk/client-kms` commands'
 * input and output, so that wiring is one line per operation and this file needs no package:
 *
 *   const kms = new KMSClient({ region });
 *   const api: KmsApi = {
 *     generateDataKey: (input, o) => kms.send(new GenerateDataKeyCommand(input), o),
 *     decrypt: (input, o) => kms.send(new DecryptCommand(input), o),
 *     encrypt: (input, o) => kms.send(new EncryptCommand(input), o),
 *   };
 */
export interface KmsApi {
  generateDataKey(
    input: { KeyId: string; KeySpec: 'AES_256'; EncryptionContext: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ KeyId?: string; Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array }>;
  decrypt(
    input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ KeyId?: string; Plaintext?: Uint8Array }>;
  /** Only `wrap` (a data key the caller already has) needs it; sealing uses generateDataKey. */
  encrypt?(
    input: { KeyId: string; Plaintext: Uint8Array; EncryptionContext: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ KeyId?: string; CiphertextBlob?: Uint8Array }>;
}

export interface KmsKekOptions {
  api: KmsApi;
  /** The KMS key new data keys are generated under: key id, key ARN, alias name or alias ARN. */
  keyId: string;
  /**
   * KMS encryption context, bound to every wrapped key and visible in CloudTrail. Default
   * `{ service: 'warden' }`. Changing it makes existing envelopes unreadable.
   */
  encryptionContext?: Record<string, string>;
}

/** KMS answers that no retry fixes: the ciphertext or key is wrong, or an operator must act. */
const PERMANENT = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'AccessDeniedException',
  'InvalidGrantTokenException',
]);
/** Among the permanent ones, those that mean "this envelope's wrapped key is not ours". */
const NOT_AUTHENTIC = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

function errorName(error: unknown): string {
  return (error as { name?: unknown } | null)?.name?.toString() ?? 'Error';
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || errorName(error) === 'AbortError';
}

/**
 * Key-encryption key in AWS KMS: every data key comes from GenerateDataKey (AES_256) and is
 * unwrapped by Decrypt; the key material never leaves KMS. The envelope stores the key ARN KMS
 * answers with, and Decrypt is pinned to it.
 */
export class KmsKek implements KeyEncryptionKey {
  readonly keyId: string;
  private readonly api: KmsApi;
  private readonly context: Record<string, string>;

  constructor(options: KmsKekOptions) {
    if (options?.api === null || typeof options?.api?.generateDataKey !== 'function' || typeof options.api.decrypt !== 'function') {
      throw new TypeError('KmsKek: options.api must provide generateDataKey and decrypt');
    }
    if (typeof options.keyId !== 'string' || options.keyId === '') throw new TypeError('KmsKek: options.keyId must be a non-empty string');
    const context = options.encryptionContext ?? { service: 'warden' };
    if (typeof context !== 'object' || context === null || Object.values(context).some((v) => typeof v !== 'string')) {
      throw new TypeError('KmsKek: options.encryptionContext must map strings to strings');
    }
    this.api = options.api;
    this.keyId = options.keyId;
    this.context = { ...context };
  }

  async generateDataKey(signal?: AbortSignal): Promise<GeneratedDataKey> {
    let out;
    try {
      out = await this.api.generateDataKey({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: this.context }, { abortSignal: signal });
    } catch (error) {
      if (isAbort(error, signal)) throw error;
      throw new KeyServiceError('GenerateDataKey', this.keyId, { retryable: !PERMANENT.has(errorName(error)), name: errorName(error) });
    }
    if (!out.Plaintext || out.Plaintext.length !== DATA_KEY_BYTES || !out.CiphertextBlob) {
      throw new KeyServiceError('GenerateDataKey', this.keyId, { retryable: false, name: 'UnexpectedResponse' });
    }
    return { dataKey: Buffer.from(out.Plaintext), keyId: out.KeyId ?? this.keyId, wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async wrap(dataKey: Buffer, signal?: AbortSignal): Promise<WrappedDataKey> {
    if (!this.api.encrypt) throw new KeyServiceError('Encrypt', this.keyId, { retryable: false, name: 'NotConfigured' });
    let out;
    try {
      out = await this.api.encrypt({ KeyId: this.keyId, Plaintext: dataKey, EncryptionContext: this.context }, { abortSignal: signal });
    } catch (error) {
      if (isAbort(error, signal)) throw error;
      throw new KeyServiceError('Encrypt', this.keyId, { retryable: !PERMANENT.has(errorName(error)), name: errorName(error) });
    }
    if (!out.CiphertextBlob) throw new KeyServiceError('Encrypt', this.keyId, { retryable: false, name: 'UnexpectedResponse' });
    return { keyId: out.KeyId ?? this.keyId, wrapped: Buffer.from(out.CiphertextBlob) };
  }

  async unwrap(wrapped: WrappedDataKey, signal?: AbortSignal): Promise<Buffer> {
    let out;
    try {
      out = await this.api.decrypt({ KeyId: wrapped.keyId, CiphertextBlob: wrapped.wrapped, EncryptionContext: this.context }, { abortSignal: signal });
    } catch (error) {
      if (isAbort(error, signal)) throw error;
      const name = errorName(error);
      if (NOT_AUTHENTIC.has(name)) throw new PayloadDecryptError('key_unwrap_failed', { keyId: wrapped.keyId });
      throw new KeyServiceError('Decrypt', wrapped.keyId, { retryable: !PERMANENT.has(name), name });
    }
    if (!out.Plaintext || out.Plaintext.length !== DATA_KEY_BYTES) throw new PayloadDecryptError('key_unwrap_failed', { keyId: wrapped.keyId });
    return Buffer.from(out.Plaintext);
  }
}
