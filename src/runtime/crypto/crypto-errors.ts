import { WardenError } from '../../errors.ts';

/** Why an envelope could not be opened; stable strings for logs and tests, never key material. */
export type DecryptFailure =
  | 'malformed_envelope'
  | 'unsupported_version'
  | 'unknown_key'
  | 'key_unwrap_failed'
  | 'authentication_failed';

const EXPLAIN: Record<DecryptFailure, string> = {
  malformed_envelope: 'the envelope is truncated or not an envelope',
  unsupported_version: 'the envelope version is not supported',
  unknown_key: 'the envelope names a key-encryption key this process does not hold',
  key_unwrap_failed: 'the wrapped data key is not authentic under its key-encryption key',
  authentication_failed: 'the ciphertext, its header or its binding (AAD: job and purpose) does not authenticate',
};

/**
 * A payload envelope that cannot be opened: tampered, truncated, bound to another job or purpose,
 * or wrapped under a key we do not hold. No retry fixes it. The message names the reason and the
 * key id, never a key.
 */
export class PayloadDecryptError extends WardenError {
  readonly reason: DecryptFailure;

  constructor(reason: DecryptFailure, details: { keyId?: string } = {}) {
    const key = details.keyId === undefined ? '' : ` (key ${details.keyId})`;
    super('payload_decrypt_failed', `payload could not be decrypted: ${EXPLAIN[reason]}${key}`, {
      retryable: false,
      details: { reason, ...details },
    });
    this.reason = reason;
  }
}

/**
 * The key service (KMS) could not be reached or refused for a reason a retry may fix
 * (throttling, a network fault). `retryable: false` when the refusal is permanent (a disabled
 * key, missing permission): an operator has to act.
 */
export class KeyServiceError extends WardenError {
  // No `cause`: an SDK error can carry its request, and an Encrypt request carries a data key.
  constructor(operation: string, keyId: string, options: { retryable: boolean; name?: string }) {
    super('kek_unavailable', `key service ${operation} for key ${keyId} failed${options.name ? ` (${options.name})` : ''}`, {
      retryable: options.retryable,
      details: { operation, keyId, ...(options.name ? { error: options.name } : {}) },
    });
  }
}
