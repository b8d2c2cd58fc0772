import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WardenError } from '../../errors.ts';
import { PayloadDecryptError } from './crypto-errors.ts';
import { DATA_KEY_BYTES, type GeneratedDataKey, type KeyEncryptionKey, type WrappedDataKey } from './key-encryption-key.ts';

export interface LocalKeyFileKekOptions {
  /** Path of the key file: exactly 32 random bytes, mode 0600. */
  path: string;
  /** Create the file (32 random bytes, 0600) when it does not exist. Default true. */
  create?: boolean;
  /**
   * Key files of earlier keys, still accepted by `unwrap` so envelopes sealed before a rotation
   * stay readable; new data keys are always wrapped under `path`. Default [].
   */
  retiredPaths?: string[];
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** iv ‖ tag ‖ AES-256-GCM(data key). */
const WRAPPED_BYTES = IV_BYTES + TAG_BYTES + DATA_KEY_BYTES;

function keyFileError(code: string, message: string): WardenError {
  return new WardenError(code, message, { retryable: false });
}

/** A key's id: a SHA-256 prefix, domain-separated so the id is no hash anyone else computes of the key. */
export function localKeyId(key: Buffer): string {
  return `local:${createHash('sha256').update('warden-kek-id/v1\0').update(key).digest('hex').slice(0, 16)}`;
}

function wrapAad(keyId: string): Buffer {
  return Buffer.from(`warden-kek-wrap/v1\0${keyId}`, 'utf8');
}

async function createKeyFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // 'wx': exclusive create, so two processes starting at once cannot both write a key; the loser
  // reads the winner's file.
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(randomBytes(DATA_KEY_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The umask can only remove bits from 0600, but say it explicitly.
  await chmod(path, 0o600);
}

async function readKeyFile(path: string, create: boolean): Promise<Buffer> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) throw keyFileError('key_file_missing', `key file ${path} does not exist (and create is false)`);
    try {
      await createKeyFile(path);
    } catch (createError) {
      if ((createError as NodeJS.ErrnoException).code !== 'EEXIST') throw createError;
    }
    info = await stat(path);
  }
  if (!info.isFile()) throw keyFileError('key_file_invalid', `key file ${path} is not a regular file`);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw keyFileError('key_file_insecure', `key file ${path} is accessible to group or others (mode ${mode}); chmod 600 it`);
  }
  const key = await readFile(path);
  if (key.length !== DATA_KEY_BYTES) {
    // The length, never the content.
    throw keyFileError('key_file_invalid', `key file ${path} holds ${key.length} bytes; a key is exactly ${DATA_KEY_BYTES} random bytes`);
  }
  return key;
}

/**
 * Key-encryption key from a local file, for the local stack and single-host deployments: data
 * keys are wrapped with AES-256-GCM under the file's key, the key id (a SHA-256 prefix of the key)
 * authenticated with them. The key lives in a private field: it is in no error message, no
 * `JSON.stringify` and no `util.inspect` output.
 */
export class LocalKeyFileKek implements KeyEncryptionKey {
  readonly keyId: string;
  readonly #keys: Map<string, Buffer>;

  private constructor(current: Buffer, retired: Buffer[]) {
    this.keyId = localKeyId(current);
    this.#keys = new Map([[this.keyId, current]]);
    for (const key of retired) {
      const id = localKeyId(key);
      if (!this.#keys.has(id)) this.#keys.set(id, key);
    }
  }

  /** Reads (or creates) the key file and any retired ones. */
  static async open(options: LocalKeyFileKekOptions): Promise<LocalKeyFileKek> {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new TypeError('LocalKeyFileKek.open: options.path must be a non-empty string');
    }
    if (options.create !== undefined && typeof options.create !== 'boolean') {
      throw new TypeError('LocalKeyFileKek.open: options.create must be a boolean');
    }
    const retiredPaths = options.retiredPaths ?? [];
    if (!Array.isArray(retiredPaths) || retiredPaths.some((p) => typeof p !== 'string' || p === '')) {
      throw new TypeError('LocalKeyFileKek.open: options.retiredPaths must be an array of paths');
    }
    const current = await readKeyFile(options.path, options.create ?? true);
    const retired = await Promise.all(retiredPaths.map((path) => readKeyFile(path, false)));
    return new LocalKeyFileKek(current, retired);
  }

  /** The ids of every key this KEK can unwrap with, current first. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  async generateDataKey(): Promise<GeneratedDataKey> {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    return { dataKey, ...this.wrapSync(dataKey) };
  }

  async wrap(dataKey: Buffer): Promise<WrappedDataKey> {
    return this.wrapSync(dataKey);
  }

  private wrapSync(dataKey: Buffer): WrappedDataKey {
    if (!Buffer.isBuffer(dataKey) || dataKey.length !== DATA_KEY_BYTES) {
      throw new TypeError(`LocalKeyFileKek.wrap: a data key is a Buffer of ${DATA_KEY_BYTES} bytes`);
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.keyId) as Buffer, iv);
    cipher.setAAD(wrapAad(this.keyId));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { keyId: this.keyId, wrapped: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  }

  async unwrap(wrapped: WrappedDataKey): Promise<Buffer> {
    const kek = this.#keys.get(wrapped.keyId);
    if (!kek) throw new PayloadDecryptError('unknown_key', { keyId: wrapped.keyId });
    if (wrapped.wrapped.length !== WRAPPED_BYTES) throw new PayloadDecryptError('key_unwrap_failed', { keyId: wrapped.keyId });
    const iv = wrapped.wrapped.subarray(0, IV_BYTES);
    const tag = wrapped.wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, iv);
      decipher.setAAD(wrapAad(wrapped.keyId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(wrapped.wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      // OpenSSL's message says nothing useful and nothing secret; ours names the key id.
      throw new PayloadDecryptError('key_unwrap_failed', { keyId: wrapped.keyId });
    }
  }

  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `LocalKeyFileKek { keyId: '${this.keyId}' }`;
  }
}
