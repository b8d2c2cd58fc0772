import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { WardenError } from '../../errors.ts';
import type { PayloadRef } from '../../jobs/job-record.ts';
import type { PayloadStore } from '../payload-store.ts';

export class PayloadIntegrityError extends WardenError {
  constructor(key: string, expected: string, actual: string) {
    super('payload_integrity', `payload ${key} hashes to ${actual}, expected ${expected}`, {
      retryable: false,
      details: { key, expected, actual },
    });
  }
}

const PAYLOAD_RETENTION_MS = 30 * 86_400_000;

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * PayloadStore on S3. The SHA-256 is computed here and checked here on every read: an emulator
 * (and a misconfigured proxy) may not verify checksums, so the code does not rely on it.
 */
export class S3PayloadStore implements PayloadStore {
  readonly verifiesDigest = true;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<PayloadRef> {
    const digest = sha256(body);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/octet-stream',
        // Raw payloads are kept 30 days: the bucket's lifecycle rule deletes them; this tells
        // anyone reading the object (and `warden purge`) when that is due.
        Metadata: { sha256: digest, 'expires-at': new Date(Date.now() + PAYLOAD_RETENTION_MS).toISOString() },
      }),
      { abortSignal: signal },
    );
    return { key, sha256: digest, bytes: body.length };
  }

  async get(ref: PayloadRef, signal?: AbortSignal): Promise<Buffer> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: ref.key }), { abortSignal: signal });
    if (!out.Body) throw new PayloadIntegrityError(ref.key, ref.sha256, 'empty body');
    const body = Buffer.from(await out.Body.transformToByteArray());
    const actual = sha256(body);
    if (actual !== ref.sha256) throw new PayloadIntegrityError(ref.key, ref.sha256, actual);
    return body;
  }
}
