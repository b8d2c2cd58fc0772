import { PayloadDecryptError } from './crypto-errors.ts';

/**
 * The binary envelope, version 1 (big-endian lengths):
 *
 *   0  'W' 'E'            magic
 *   2  u8  version         1
 *   3  u8  n               key id length (1..255)
 *   4  n bytes             key id, UTF-8
 *   .  u16 m               wrapped data key length (1..4096)
 *   .  m bytes             wrapped data key
 *   .  12 bytes            IV
 *   .  16 bytes            GCM tag
 *   .  rest                ciphertext (AES-256-GCM)
 *
 * Everything up to the IV is the header; it is authenticated as part of the GCM AAD, so no field
 * can be swapped without the tag failing.
 */
export const ENVELOPE_VERSION = 1;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const MAGIC = [0x57, 0x45] as const;
const MAX_KEY_ID_BYTES = 255;
const MAX_WRAPPED_BYTES = 4096;

export interface EnvelopeParts {
  keyId: string;
  wrapped: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  /** Magic through the wrapped key: the authenticated header. */
  header: Buffer;
}

export function encodeHeader(keyId: string, wrapped: Buffer): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length === 0 || id.length > MAX_KEY_ID_BYTES) throw new RangeError(`envelope: key id must be 1..${MAX_KEY_ID_BYTES} bytes`);
  if (wrapped.length === 0 || wrapped.length > MAX_WRAPPED_BYTES) throw new RangeError(`envelope: wrapped key must be 1..${MAX_WRAPPED_BYTES} bytes`);
  const header = Buffer.alloc(4 + id.length + 2 + wrapped.length);
  header[0] = MAGIC[0];
  header[1] = MAGIC[1];
  header[2] = ENVELOPE_VERSION;
  header[3] = id.length;
  id.copy(header, 4);
  header.writeUInt16BE(wrapped.length, 4 + id.length);
  wrapped.copy(header, 6 + id.length);
  return header;
}

export function encodeEnvelope(header: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer): Buffer {
  return Buffer.concat([header, iv, tag, ciphertext]);
}

/** Splits an envelope without decrypting it; anything malformed is a PayloadDecryptError. */
export function decodeEnvelope(envelope: Buffer): EnvelopeParts {
  if (!Buffer.isBuffer(envelope) || envelope.length < 4 || envelope[0] !== MAGIC[0] || envelope[1] !== MAGIC[1]) {
    throw new PayloadDecryptError('malformed_envelope');
  }
  if (envelope[2] !== ENVELOPE_VERSION) throw new PayloadDecryptError('unsupported_version');
  const idLength = envelope[3] as number;
  let offset = 4;
  if (idLength === 0 || envelope.length < offset + idLength + 2) throw new PayloadDecryptError('malformed_envelope');
  const idBytes = envelope.subarray(offset, offset + idLength);
  offset += idLength;
  const wrappedLength = envelope.readUInt16BE(offset);
  offset += 2;
  if (wrappedLength === 0 || envelope.length < offset + wrappedLength + IV_BYTES + TAG_BYTES) throw new PayloadDecryptError('malformed_envelope');
  const wrapped = envelope.subarray(offset, offset + wrappedLength);
  offset += wrappedLength;
  const header = envelope.subarray(0, offset);
  const keyId = new TextDecoder('utf-8', { fatal: false }).decode(idBytes);
  return {
    keyId,
    wrapped,
    header,
    iv: envelope.subarray(offset, offset + IV_BYTES),
    tag: envelope.subarray(offset + IV_BYTES, offset + IV_BYTES + TAG_BYTES),
    ciphertext: envelope.subarray(offset + IV_BYTES + TAG_BYTES),
  };
}
