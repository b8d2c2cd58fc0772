import type { PayloadRef } from '../jobs/job-record.ts';

/** Large payloads (prompt context, raw responses) by claim check; every read re-checks the digest. */
export interface PayloadStore {
  put(key: string, body: Buffer, signal?: AbortSignal): Promise<PayloadRef>;
  /** Throws PayloadIntegrityError when the stored bytes no longer hash to `ref.sha256`. */
  get(ref: PayloadRef, signal?: AbortSignal): Promise<Buffer>;
  /** True when `get` itself checks the bytes against `ref.sha256`: a wrapper need not hash them again. */
  readonly verifiesDigest?: boolean;
}
