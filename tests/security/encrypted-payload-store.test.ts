import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { makeAwsClients, type AwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { PayloadDecryptError } from '../../src/runtime/crypto/crypto-errors.ts';
import { EncryptedPayloadStore } from '../../src/runtime/crypto/encrypted-payload-store.ts';
import { KmsKek, type KmsApi } from '../../src/runtime/crypto/kms-kek.ts';
import { LocalKeyFileKek } from '../../src/runtime/crypto/local-key-file-kek.ts';
import { PayloadCipher } from '../../src/runtime/crypto/payload-cipher.ts';
import { S3PayloadStore } from '../../src/runtime/s3/s3-payload-store.ts';
import { startFauxqsServer, type FauxqsServer } from '../../src/stack/infra/fauxqs-server.ts';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const BUCKET = 'warden-crypto-test';
let dir: string;
let fauxqs: FauxqsServer;
let aws: AwsClients;
let store: EncryptedPayloadStore;
let cipher: PayloadCipher;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-eps-'));
  fauxqs = await startFauxqsServer({ region: 'us-east-1' });
  aws = makeAwsClients({ region: 'us-east-1', endpoints: { s3: fauxqs.endpoint, sqs: fauxqs.endpoint } });
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const kek = await LocalKeyFileKek.open({ path: join(dir, 'kek.bin') });
  cipher = new PayloadCipher({ kek });
  store = new EncryptedPayloadStore(new S3PayloadStore(aws.s3, BUCKET), cipher);
});
after(async () => {
  aws?.destroy();
  await fauxqs?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function rawObject(key: string): Promise<Buffer> {
  const out = await aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

const JOB = 'd'.repeat(64);

describe('EncryptedPayloadStore over S3 (fauxqs)', () => {
  it('stores only ciphertext, and the ref digest covers the stored bytes', async () => {
    const plaintext = Buffer.from('PII-MARKER-7f3a: Jane Doe, jane@example.com, +1 555 0100');
    const ref = await store.put(`payloads/${JOB}/fp.context`, plaintext);
    assert.match(ref.key, new RegExp(`^payloads/${JOB}/fp\\.context\\.[0-9a-f]{16}$`));
    const raw = await rawObject(ref.key);
    assert.ok(!raw.toString('latin1').includes('PII-MARKER'), 'plaintext in S3');
    assert.equal(ref.bytes, raw.length);
    const { createHash } = await import('node:crypto');
    assert.equal(ref.sha256, createHash('sha256').update(raw).digest('hex'));
    assert.deepEqual(await store.get(ref), plaintext);
  });

  it('two puts under one key never overwrite each other (randomized sealing)', async () => {
    const a = await store.put(`payloads/${JOB}/same.context`, Buffer.from('same bytes'));
    const b = await store.put(`payloads/${JOB}/same.context`, Buffer.from('same bytes'));
    assert.notEqual(a.key, b.key);
    assert.equal((await store.get(a)).toString(), 'same bytes');
    assert.equal((await store.get(b)).toString(), 'same bytes');
  });

  it('a modified object fails the integrity check before any decryption', async () => {
    const ref = await store.put(`payloads/${JOB}/tamper.context`, Buffer.from('original'));
    const raw = await rawObject(ref.key);
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: ref.key, Body: raw }));
    await assert.rejects(store.get(ref), (e: any) => e.code === 'payload_integrity' && e.retryable === false);
  });

  it('checks the digest itself over an inner store that does not', async () => {
    // A store that hands back whatever it holds, and says nothing about digests.
    const objects = new Map<string, Buffer>();
    const trusting = {
      async put(key: string, body: Buffer) {
        objects.set(key, Buffer.from(body));
        return { key, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
      },
      async get(ref: { key: string }) {
        return Buffer.from(objects.get(ref.key) as Buffer);
      },
    };
    const wrapped = new EncryptedPayloadStore(trusting, cipher);
    const ref = await wrapped.put(`payloads/${JOB}/trusting.context`, Buffer.from('original'));
    assert.equal((await wrapped.get(ref)).toString(), 'original');
    const stored = objects.get(ref.key) as Buffer;
    stored[stored.length - 1] = (stored[stored.length - 1] as number) ^ 1;
    await assert.rejects(wrapped.get(ref), (e: any) => e.code === 'payload_integrity' && e.retryable === false);
  });

  it('a ciphertext copied to another job, with a rewritten digest, fails authentication', async () => {
    const ref = await store.put(`payloads/${JOB}/fp.context`, Buffer.from('belongs to job d'));
    const raw = await rawObject(ref.key);
    const otherKey = `payloads/${'e'.repeat(64)}/fp.context.0000000000000000`;
    await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: otherKey, Body: raw }));
    // The attacker also rewrites the job item's ref so the digest matches: GCM still refuses.
    await assert.rejects(store.get({ ...ref, key: otherKey }), PayloadDecryptError);
  });

  it('nothing in the bucket holds the plaintext marker', async () => {
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    for (const object of listed.Contents ?? []) {
      const raw = await rawObject(object.Key!);
      assert.ok(!raw.toString('latin1').includes('PII-MARKER'), `plaintext in ${object.Key}`);
    }
  });
});

/** An in-memory KMS speaking the KmsApi shape: one master key, an encryption context check. */
function fakeKms(): KmsApi & { calls: Record<string, number>; fail?: string } {
  const master = randomBytes(32);
  const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/test';
  const aadOf = (context: Record<string, string>) => Buffer.from(JSON.stringify(Object.entries(context).sort()));
  const kms = {
    calls: { generateDataKey: 0, decrypt: 0, encrypt: 0 } as Record<string, number>,
    fail: undefined as string | undefined,
    async generateDataKey(input: { KeyId: string; EncryptionContext: Record<string, string> }) {
      kms.calls['generateDataKey']! += 1;
      if (kms.fail) throw Object.assign(new Error('kms says no'), { name: kms.fail });
      const plaintext = randomBytes(32);
      return { KeyId: keyArn, Plaintext: plaintext, CiphertextBlob: (await kms.encrypt({ KeyId: input.KeyId, Plaintext: plaintext, EncryptionContext: input.EncryptionContext })).CiphertextBlob };
    },
    async encrypt(input: { KeyId: string; Plaintext: Uint8Array; EncryptionContext: Record<string, string> }) {
      kms.calls['encrypt']! += 1;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', master, iv);
      cipher.setAAD(aadOf(input.EncryptionContext));
      const body = Buffer.concat([cipher.update(input.Plaintext), cipher.final()]);
      return { KeyId: keyArn, CiphertextBlob: Buffer.concat([iv, cipher.getAuthTag(), body]) };
    },
    async decrypt(input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> }) {
      kms.calls['decrypt']! += 1;
      if (kms.fail) throw Object.assign(new Error('kms says no'), { name: kms.fail });
      if (input.KeyId !== keyArn) throw Object.assign(new Error('wrong key'), { name: 'IncorrectKeyException' });
      const blob = Buffer.from(input.CiphertextBlob);
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12));
        decipher.setAAD(aadOf(input.EncryptionContext));
        decipher.setAuthTag(blob.subarray(12, 28));
        return { KeyId: keyArn, Plaintext: Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]) };
      } catch {
        throw Object.assign(new Error('invalid ciphertext'), { name: 'InvalidCiphertextException' });
      }
    },
  };
  return kms;
}

describe('KmsKek (against the KmsApi shape)', () => {
  it('seals with GenerateDataKey, opens with Decrypt pinned to the key ARN, and caches the data key', async () => {
    const kms = fakeKms();
    const kek = new KmsKek({ api: kms, keyId: 'alias/warden' });
    const writer = new PayloadCipher({ kek });
    const reader = new PayloadCipher({ kek });
    const sealed = await writer.seal(Buffer.from('hello'), 'aad');
    assert.equal(kms.calls['generateDataKey'], 1);
    assert.equal((await reader.open(sealed, 'aad')).toString(), 'hello');
    assert.equal((await reader.open(sealed, 'aad')).toString(), 'hello');
    assert.equal(kms.calls['decrypt'], 1);
  });

  it('a tampered wrapped key is payload_decrypt_failed; throttling is retryable kek_unavailable', async () => {
    const kms = fakeKms();
    const kek = new KmsKek({ api: kms, keyId: 'alias/warden' });
    // A key per payload: every seal asks KMS, so its failures show.
    const cipher = new PayloadCipher({ kek, cacheSize: 0, dataKeyReuse: { maxMessages: 1 } });
    const sealed = await cipher.seal(Buffer.from('hello'), 'aad');
    const idLength = sealed[3] as number;
    const tampered = Buffer.from(sealed);
    tampered[4 + idLength + 2 + 30] = (tampered[4 + idLength + 2 + 30] as number) ^ 1;
    await assert.rejects(cipher.open(tampered, 'aad'), (e: any) => e.code === 'payload_decrypt_failed' && e.reason === 'key_unwrap_failed');
    kms.fail = 'ThrottlingException';
    await assert.rejects(cipher.open(sealed, 'aad'), (e: any) => e.code === 'kek_unavailable' && e.retryable === true);
    await assert.rejects(cipher.seal(Buffer.from('x'), 'aad'), (e: any) => e.code === 'kek_unavailable' && e.retryable === true);
    kms.fail = 'DisabledException';
    await assert.rejects(cipher.open(sealed, 'aad'), (e: any) => e.code === 'kek_unavailable' && e.retryable === false);
  });

  it('checks its options', () => {
    assert.throws(() => new KmsKek({ api: {} as never, keyId: 'k' }), /options\.api/);
    assert.throws(() => new KmsKek({ api: fakeKms(), keyId: '' }), /options\.keyId/);
  });
});
