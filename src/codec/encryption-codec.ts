// AES-256-GCM payload codec: each payload becomes binary/encrypted with its key id; plain payloads pass through.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { PayloadDecryptError } from './errors';
import type { CodecKeys } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = temporal.api.common.v1.Payload;

/** The module whose `failureConverter` encodes failure messages and stacks (see failure-converter.ts). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.currentKeyId;
    const key = this.keyFor(keyId);
    return payloads.map((payload) => ({
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(keyId),
      },
      data: encrypt(ProtoPayload.encode(payload).finish(), key),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decodeOne(payload) : payload));
  }

  private decodeOne(payload: Payload): Payload {
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!idBytes)
      throw new PayloadDecryptError(undefined, 'missing-key-id', `encrypted payload has no ${KEY_ID_METADATA} metadata`);
    const keyId = Buffer.from(idBytes).toString('utf8');
    const plain = decrypt(payload.data ?? new Uint8Array(), this.keyFor(keyId), keyId);
    return ProtoPayload.decode(plain);
  }

  private keyFor(keyId: string): Buffer {
    const key = this.keys.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptError(
        keyId,
        'unknown-key-id',
        `payload was encrypted with key id "${keyId}", which this process does not have; add it (decrypt-only) to TUNEFORGE_CODEC_KEYS or the key file`,
      );
    }
    return key;
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && Buffer.from(encoding).toString('utf8') === ENCRYPTED_ENCODING;
}

/** iv | ciphertext | tag. */
export function encrypt(plain: Uint8Array, key: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

export function decrypt(sealed: Uint8Array, key: Buffer, keyId: string): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < IV_BYTES + TAG_BYTES) {
    throw new PayloadDecryptError(
      keyId,
      'too-short',
      `encrypted payload (key id "${keyId}") is ${bytes.length} bytes, too short to hold an IV and tag`,
    );
  }
  const decipher = createDecipheriv(CIPHER, key, bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    const message = `encrypted payload (key id "${keyId}") failed authentication: wrong key or tampered data`;
    throw new PayloadDecryptError(keyId, 'authentication-failed', message, { cause: err });
  }
}

/**
 * The data converter for clients and workers: encrypted payloads, and failure messages and stacks moved into an
 * encrypted payload too. Undefined without keys (encryption off). Workers that pass a pre-built workflow bundle must
 * build it with the same `failureConverterPath`.
 */
export function dataConverterFor(keys: CodecKeys | undefined): DataConverter | undefined {
  if (!keys) return undefined;
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
