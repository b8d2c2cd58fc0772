import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { WardenConfig } from '../../config/config-schema.ts';
import type { KeyEncryptionKey } from './key-encryption-key.ts';
import { KmsKek } from './kms-kek.ts';
import { LocalKeyFileKek } from './local-key-file-kek.ts';
import { PayloadCipher } from './payload-cipher.ts';

/** The envelope cipher from config: KMS in production, a local key file for the local stack. */
export async function buildCipher(config: WardenConfig): Promise<{ cipher: PayloadCipher; close: () => void }> {
  let kek: KeyEncryptionKey;
  let close = () => undefined as void;
  if (config.crypto.kek === 'kms') {
    if (!config.crypto.kmsKeyId) throw new Error('crypto.kmsKeyId is required when crypto.kek is kms');
    const kms = new KMSClient({ region: config.aws.region });
    kek = new KmsKek({
      keyId: config.crypto.kmsKeyId,
      api: {
        generateDataKey: (input, options) => kms.send(new GenerateDataKeyCommand(input), options),
        decrypt: (input, options) => kms.send(new DecryptCommand(input), options),
        encrypt: (input, options) => kms.send(new EncryptCommand(input), options),
      },
    });
    close = () => kms.destroy();
  } else {
    kek = await LocalKeyFileKek.open({ path: config.crypto.keyFile });
  }
  const dataKeyReuse = { maxMessages: config.crypto.dataKeyMaxMessages, maxAgeMs: config.crypto.dataKeyMaxAgeMs };
  return { cipher: new PayloadCipher({ kek, cacheSize: config.crypto.cacheSize, dataKeyReuse }), close };
}
