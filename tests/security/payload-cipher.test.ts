import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { isWardenError } from '../../src/errors.ts';
import { PayloadDecryptError } from '../../src/runtime/crypto/crypto-errors.ts';
import { DataKeyCache } from '../../src/runtime/crypto/data-key-cache.ts';
import { DATA_KEY_BYTES, type KeyEncryptionKey, type WrappedDataKey } from '../../src/runtime/crypto/key-encryption-key.ts';
import { LocalKeyFileKek } from '../../src/runtime/crypto/local-key-file-kek.ts';
import { isSealedText, PayloadCipher, payloadAad } from '../../src/runtime/crypto/payload-cipher.ts';

let dir: string;
let kek: LocalKeyFileKek;
let keyBytes: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-crypto-'));
  kek = await LocalKeyFileKek.open({ path: join(dir, 'keys', 'kek.bin') });
  keyBytes = await readFile(join(dir, 'keys', 'kek.bin'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Counts unwraps and mints, to see the cache and the key reuse work. */
function countingKek(inner: KeyEncryptionKey): KeyEncryptionKey & { unwraps: number; generated: number } {
  const counter = {
    keyId: inner.keyId,
    unwraps: 0,
    generated: 0,
    generateDataKey(signal?: AbortSignal) {
      counter.generated += 1;
      return inner.generateDataKey(signal);
    },
    wrap: (key: Buffer, signal?: AbortSignal) => inner.wrap(key, signal),
    unwrap(wrapped: WrappedDataKey, signal?: AbortSignal) {
      counter.unwraps += 1;
      return inner.unwrap(wrapped, signal);
    },
  };
  return counter;
}

/** Where the parts of a v1 envelope start (see envelope-format.ts). */
function layout(envelope: Buffer) {
  const idLength = envelope[3] as number;
  const wrappedAt = 4 + idLength + 2;
  const wrappedLength = envelope.readUInt16BE(4 + idLength);
  const ivAt = wrappedAt + wrappedLength;
  return { keyIdAt: 4, wrappedAt, ivAt, tagAt: ivAt + 12, ciphertextAt: ivAt + 28 };
}

function flip(buffer: Buffer, at: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

async function rejectsDecrypt(promise: Promise<unknown>, reason?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PayloadDecryptError, `expected PayloadDecryptError, got ${String(error)}`);
    assert.equal(error.code, 'payload_decrypt_failed');
    assert.equal(error.retryable, false);
    if (reason) assert.equal(error.reason, reason);
    return true;
  });
}

describe('LocalKeyFileKek', () => {
  it('creates a 32-byte key file readable by its owner only, and reads the same key back', async () => {
    const info = await stat(join(dir, 'keys', 'kek.bin'));
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(keyBytes.length, DATA_KEY_BYTES);
    const again = await LocalKeyFileKek.open({ path: join(dir, 'keys', 'kek.bin') });
    assert.equal(again.keyId, kek.keyId);
    assert.match(kek.keyId, /^local:[0-9a-f]{16}$/);
  });

  it('refuses a key file others can read, a missing one when create is false, and a wrong size', async () => {
    const loose = join(dir, 'loose.bin');
    await writeFile(loose, randomBytes(32), { mode: 0o644 });
    await chmod(loose, 0o644);
    await assert.rejects(LocalKeyFileKek.open({ path: loose }), (e: unknown) => isWardenError(e) && e.code === 'key_file_insecure');
    await assert.rejects(LocalKeyFileKek.open({ path: join(dir, 'absent.bin'), create: false }), (e: unknown) => isWardenError(e) && e.code === 'key_file_missing');
    const short = join(dir, 'short.bin');
    await writeFile(short, randomBytes(16), { mode: 0o600 });
    await assert.rejects(LocalKeyFileKek.open({ path: short }), (e: unknown) => isWardenError(e) && e.code === 'key_file_invalid');
  });

  it('opens envelopes wrapped under a retired key after a rotation', async () => {
    const oldPath = join(dir, 'old.bin');
    const oldKek = await LocalKeyFileKek.open({ path: oldPath });
    const sealed = await new PayloadCipher({ kek: oldKek }).seal(Buffer.from('before rotation'), 'aad');
    const rotated = await LocalKeyFileKek.open({ path: join(dir, 'new.bin'), retiredPaths: [oldPath] });
    assert.notEqual(rotated.keyId, oldKek.keyId);
    assert.equal((await new PayloadCipher({ kek: rotated }).open(sealed, 'aad')).toString(), 'before rotation');
    const withoutOld = await LocalKeyFileKek.open({ path: join(dir, 'new.bin') });
    await rejectsDecrypt(new PayloadCipher({ kek: withoutOld }).open(sealed, 'aad'), 'unknown_key');
  });

  it('never shows its key through inspect or JSON', () => {
    const hex = keyBytes.toString('hex');
    const b64 = keyBytes.toString('base64');
    for (const shown of [inspect(kek, { showHidden: true, depth: 10 }), JSON.stringify(kek), JSON.stringify({ kek })]) {
      assert.ok(!shown.includes(hex) && !shown.includes(b64), `key leaked: ${shown}`);
    }
  });
});

describe('PayloadCipher', () => {
  const aad = payloadAad('a'.repeat(64), 'prompt_context');

  it('round-trips empty, small and 64 KB payloads, and strings', async () => {
    const cipher = new PayloadCipher({ kek });
    for (const size of [0, 1, 100, 64 * 1024]) {
      const plaintext = randomBytes(size);
      const sealed = await cipher.seal(plaintext, aad);
      if (size >= 16) assert.ok(!sealed.includes(plaintext), 'plaintext visible in the envelope');
      assert.deepEqual(await cipher.open(sealed, aad), plaintext);
    }
    const text = 'résumé ⟦gen:0123|in:x⟧ 💡 PII-MARKER-123';
    const sealedText = await cipher.sealText(text, aad);
    assert.ok(isSealedText(sealedText));
    assert.ok(!sealedText.includes('PII'));
    assert.equal(await cipher.openText(sealedText, aad), text);
    assert.equal(isSealedText(text), false);
  });

  it('uses a fresh data key and IV per object when keys are not reused', async () => {
    const cipher = new PayloadCipher({ kek, dataKeyReuse: { maxMessages: 1 } });
    const a = await cipher.seal(Buffer.from('same'), aad);
    const b = await cipher.seal(Buffer.from('same'), aad);
    assert.notDeepEqual(a, b);
    const la = layout(a);
    const lb = layout(b);
    assert.notDeepEqual(a.subarray(la.wrappedAt, la.ivAt), b.subarray(lb.wrappedAt, lb.ivAt));
  });

  it('detects a flipped byte anywhere: ciphertext, tag, IV, wrapped key, key id, header', async () => {
    const cipher = new PayloadCipher({ kek });
    const sealed = await cipher.seal(Buffer.from('the quick brown fox, PII inside'), aad);
    const at = layout(sealed);
    await rejectsDecrypt(cipher.open(flip(sealed, at.ciphertextAt + 3), aad), 'authentication_failed');
    await rejectsDecrypt(cipher.open(flip(sealed, at.tagAt), aad), 'authentication_failed');
    await rejectsDecrypt(cipher.open(flip(sealed, at.ivAt), aad), 'authentication_failed');
    await rejectsDecrypt(cipher.open(flip(sealed, at.wrappedAt + 20), aad), 'key_unwrap_failed');
    await rejectsDecrypt(cipher.open(flip(sealed, at.keyIdAt + 8), aad), 'unknown_key');
    await rejectsDecrypt(cipher.open(flip(sealed, 2), aad), 'unsupported_version');
    await rejectsDecrypt(cipher.open(flip(sealed, 0), aad), 'malformed_envelope');
    await rejectsDecrypt(cipher.open(sealed.subarray(0, at.tagAt + 4), aad), 'malformed_envelope');
    await rejectsDecrypt(cipher.open(Buffer.alloc(0), aad), 'malformed_envelope');
    // Every single-byte flip fails, not only the ones above.
    for (let i = 0; i < sealed.length; i += 1) await assert.rejects(cipher.open(flip(sealed, i), aad), PayloadDecryptError);
    assert.equal((await cipher.open(sealed, aad)).toString(), 'the quick brown fox, PII inside');
  });

  it('binds an envelope to its job and purpose (AAD): moved to another job or purpose, it does not open', async () => {
    const cipher = new PayloadCipher({ kek });
    const job = 'b'.repeat(64);
    const sealed = await cipher.seal(Buffer.from('result of job b'), payloadAad(job, 'llm_result'));
    await rejectsDecrypt(cipher.open(sealed, payloadAad('c'.repeat(64), 'llm_result')), 'authentication_failed');
    await rejectsDecrypt(cipher.open(sealed, payloadAad(job, 'prompt_context')), 'authentication_failed');
    const text = await cipher.sealText('memo', payloadAad(job, 'llm_result'));
    await rejectsDecrypt(cipher.openText(text, payloadAad('c'.repeat(64), 'llm_result')), 'authentication_failed');
    await rejectsDecrypt(cipher.openText('not base64!', payloadAad(job, 'llm_result')), 'malformed_envelope');
  });

  it('swapping the wrapped key of one envelope into another fails', async () => {
    const cipher = new PayloadCipher({ kek, cacheSize: 0, dataKeyReuse: { maxMessages: 1 } });
    const a = await cipher.seal(Buffer.from('aaaa'), aad);
    const b = await cipher.seal(Buffer.from('bbbb'), aad);
    const la = layout(a);
    const lb = layout(b);
    const spliced = Buffer.concat([a.subarray(0, la.ivAt), b.subarray(lb.ivAt)]);
    await rejectsDecrypt(cipher.open(spliced, aad), 'authentication_failed');
  });

  it('never puts key material in error messages or error details', async () => {
    const cipher = new PayloadCipher({ kek });
    const sealed = await cipher.seal(Buffer.from('secret'), aad);
    const secrets = [keyBytes.toString('hex'), keyBytes.toString('base64')];
    const at = layout(sealed);
    for (const bad of [flip(sealed, at.ciphertextAt), flip(sealed, at.wrappedAt + 1), flip(sealed, at.keyIdAt + 1)]) {
      try {
        await cipher.open(bad, aad);
        assert.fail('expected a failure');
      } catch (error) {
        const shown = `${String(error)} ${JSON.stringify(error)} ${inspect(error, { depth: 10, showHidden: true })}`;
        for (const secret of secrets) assert.ok(!shown.includes(secret), 'KEK in an error');
        // The data key of this envelope: unwrap it ourselves and look for it too.
        const dataKey = await kek.unwrap({ keyId: kek.keyId, wrapped: sealed.subarray(at.wrappedAt, at.ivAt) });
        assert.ok(!shown.includes(dataKey.toString('hex')) && !shown.includes(dataKey.toString('base64')), 'data key in an error');
        assert.ok(!shown.includes('secret'), 'plaintext in an error');
      }
    }
    assert.ok(!inspect(cipher, { depth: 10 }).includes(keyBytes.toString('hex')));
  });

  it('caches unwrapped data keys (one unwrap per envelope), LRU-bounded', async () => {
    const counting = countingKek(kek);
    const cipher = new PayloadCipher({ kek: counting, cacheSize: 3 });
    const writer = new PayloadCipher({ kek, dataKeyReuse: { maxMessages: 1 } });
    const envelopes = await Promise.all([0, 1, 2, 3, 4].map((i) => writer.seal(Buffer.from(`payload ${i}`), aad)));
    for (let round = 0; round < 3; round += 1) await cipher.open(envelopes[0] as Buffer, aad);
    assert.equal(counting.unwraps, 1);
    // Concurrent opens of one envelope share one unwrap.
    await Promise.all(Array.from({ length: 10 }, () => cipher.open(envelopes[1] as Buffer, aad)));
    assert.equal(counting.unwraps, 2);
    for (const envelope of envelopes) await cipher.open(envelope, aad);
    assert.equal(cipher.cachedKeys, 3, 'never more than cacheSize keys');
    assert.equal(counting.unwraps, 5); // 2, 3, 4 were new; 0 and 1 were cached
    // 0 and 1 are now the least recently used and gone; 4 is still there.
    await cipher.open(envelopes[4] as Buffer, aad);
    assert.equal(counting.unwraps, 5);
    await cipher.open(envelopes[0] as Buffer, aad);
    assert.equal(counting.unwraps, 6);
    assert.equal(cipher.cachedKeys, 3);
  });

  it('reuses a data key for at most dataKeyReuse payloads and time, with a fresh IV each; one mint for concurrent seals', async () => {
    let clock = 0;
    const counting = countingKek(kek);
    const cipher = new PayloadCipher({ kek: counting, dataKeyReuse: { maxMessages: 3, maxAgeMs: 1000 }, now: () => clock });
    const wrappedKeyOf = (envelope: Buffer) => envelope.subarray(layout(envelope).wrappedAt, layout(envelope).ivAt).toString('hex');
    const ivOf = (envelope: Buffer) => envelope.subarray(layout(envelope).ivAt, layout(envelope).tagAt).toString('hex');
    const first = await Promise.all(Array.from({ length: 7 }, (_, i) => cipher.seal(Buffer.from(`payload ${i}`), aad)));
    assert.equal(counting.generated, 3, 'seven payloads, three per key: three mints');
    assert.equal(new Set(first.map(wrappedKeyOf)).size, 3);
    assert.equal(new Set(first.map(ivOf)).size, 7, 'an IV per payload');
    clock = 1000;
    const later = await cipher.seal(Buffer.from('later'), aad);
    assert.equal(counting.generated, 4, 'a key past its age seals nothing more');
    assert.ok(!first.map(wrappedKeyOf).includes(wrappedKeyOf(later)));
    // Every envelope opens, in another process too (one unwrap per distinct key there).
    const reader = countingKek(kek);
    const other = new PayloadCipher({ kek: reader });
    for (const [i, envelope] of first.entries()) assert.equal((await other.open(envelope, aad)).toString(), `payload ${i}`);
    assert.equal(reader.unwraps, 3);
    // Bound to its job and purpose as ever: a reused key does not let one envelope pass for another.
    await rejectsDecrypt(other.open(first[0] as Buffer, payloadAad('job-2', 'llm_result')), 'authentication_failed');
  });

  it('a seal whose job is aborted fails alone; the others share the key being minted', async () => {
    const cipher = new PayloadCipher({ kek, dataKeyReuse: { maxMessages: 10 } });
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(cipher.seal(Buffer.from('x'), aad, controller.signal), (error: Error) => error.name === 'AbortError');
    const sealed = await cipher.seal(Buffer.from('y'), aad);
    assert.equal((await cipher.open(sealed, aad)).toString(), 'y');
  });

  it('a sealed payload opens without an unwrap in the process that sealed it', async () => {
    const counting = countingKek(kek);
    const cipher = new PayloadCipher({ kek: counting });
    const sealed = await cipher.seal(Buffer.from('x'), aad);
    await cipher.open(sealed, aad);
    assert.equal(counting.unwraps, 0);
  });

  it('DataKeyCache evicts the least recently used entry', () => {
    const cache = new DataKeyCache(2);
    cache.set('a', Buffer.from('1'));
    cache.set('b', Buffer.from('2'));
    assert.ok(cache.get('a'));
    cache.set('c', Buffer.from('3'));
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a') && cache.get('c'));
    assert.equal(cache.size, 2);
    assert.equal(JSON.stringify(cache), '{"size":2,"capacity":2}');
  });

  it('checks its options and arguments, naming the field', async () => {
    assert.throws(() => new PayloadCipher({ kek, cacheSize: -1 }), /cacheSize/);
    assert.throws(() => new PayloadCipher({} as never), /kek/);
    const cipher = new PayloadCipher({ kek });
    await assert.rejects(cipher.seal(Buffer.from('x'), ''), /aad/);
    await assert.rejects(cipher.seal('x' as never, 'aad'), /plaintext/);
  });
});
