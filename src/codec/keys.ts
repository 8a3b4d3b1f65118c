// Encryption keys for the payload codec, from TUNEFORGE_CODEC_KEYS or TUNEFORGE_CODEC_KEY_FILE; never logs key bytes.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { CodecKeyConfigError } from './errors';

export const KEYS_ENV = 'TUNEFORGE_CODEC_KEYS';
export const KEY_FILE_ENV = 'TUNEFORGE_CODEC_KEY_FILE';
export const KEY_BYTES = 32;

const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;
const GROUP_OR_WORLD_BITS = 0o077;

/** The current key encrypts; every key (current included) decrypts. */
export interface CodecKeys {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** Reads the keys from the environment; undefined when neither variable is set (encryption off). */
export function loadCodecKeys(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const list = env[KEYS_ENV]?.trim();
  const file = env[KEY_FILE_ENV]?.trim();
  if (list && file) throw new CodecKeyConfigError(KEYS_ENV, `set only one of ${KEYS_ENV} or ${KEY_FILE_ENV}`);
  if (list) return parseKeyList(list);
  if (file) return readKeyFile(file);
  return undefined;
}

/** Parses `id:base64,id:base64,...`; the first entry is the current key. */
export function parseKeyList(text: string, source = KEYS_ENV): CodecKeys {
  const entries = text.split(',').map((entry) => entry.trim());
  const pairs = entries.map((entry, index): [string, string] => {
    const colon = entry.indexOf(':');
    // The entry itself is not echoed: it may be a key pasted without its id.
    if (colon <= 0) throw new CodecKeyConfigError(source, `entry ${index + 1} is not keyId:base64-key`);
    return [entry.slice(0, colon), entry.slice(colon + 1)];
  });
  const [first] = pairs;
  if (!first) throw new CodecKeyConfigError(source, 'no keys listed');
  return buildKeys(pairs, first[0], source);
}

/** Reads a key file `{"current":"id","keys":{"id":"base64"}}` that only its owner can read. */
export function readKeyFile(path: string, source = KEY_FILE_ENV): CodecKeys {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CodecKeyConfigError(source, `cannot read ${path} (${err instanceof Error ? err.message : String(err)})`);
  }
  if (process.platform !== 'win32' && (mode & GROUP_OR_WORLD_BITS) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new CodecKeyConfigError(source, `${path} is readable by group or others (mode ${octal}); run: chmod 600 ${path}`);
  }
  return parseKeyFile(text, `${source} (${path})`);
}

export function parseKeyFile(text: string, source = KEY_FILE_ENV): CodecKeys {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message can quote the file's text, which holds keys.
    throw new CodecKeyConfigError(source, 'is not valid JSON');
  }
  if (!isRecord(parsed) || typeof parsed.current !== 'string' || !isRecord(parsed.keys)) {
    throw new CodecKeyConfigError(source, 'must be {"current": "<key id>", "keys": {"<key id>": "<base64 key>"}}');
  }
  const pairs = Object.entries(parsed.keys).map(([id, value]): [string, string] => {
    if (typeof value !== 'string') throw new CodecKeyConfigError(source, `key "${id}" must be a base64 string`);
    return [id, value];
  });
  return buildKeys(pairs, parsed.current, source);
}

function buildKeys(pairs: Array<[string, string]>, currentKeyId: string, source: string): CodecKeys {
  const keys = new Map<string, Buffer>();
  for (const [id, encoded] of pairs) {
    if (!KEY_ID_PATTERN.test(id))
      throw new CodecKeyConfigError(source, `key id "${id}" must be 1-64 letters, digits, ".", "_" or "-"`);
    if (keys.has(id)) throw new CodecKeyConfigError(source, `duplicate key id "${id}"`);
    keys.set(id, decodeKey(id, encoded, source));
  }
  if (keys.size === 0) throw new CodecKeyConfigError(source, 'no keys listed');
  if (!keys.has(currentKeyId)) throw new CodecKeyConfigError(source, `current key id "${currentKeyId}" is not among the keys`);
  return { currentKeyId, keys };
}

function decodeKey(id: string, encoded: string, source: string): Buffer {
  const text = encoded.trim();
  if (!BASE64_PATTERN.test(text) || text.length % 4 !== 0) {
    throw new CodecKeyConfigError(source, `key "${id}" is not valid base64`);
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new CodecKeyConfigError(
      source,
      `key "${id}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES} (make one with: npm run keygen)`,
    );
  }
  return key;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface GeneratedKey {
  id: string;
  key: Buffer;
}

/** A fresh random key; the default id is the date plus a random suffix, e.g. k20250102-9f3a. */
export function generateKey(id?: string, now = new Date()): GeneratedKey {
  const keyId = id ?? `k${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(2).toString('hex')}`;
  if (!KEY_ID_PATTERN.test(keyId))
    throw new CodecKeyConfigError('key id', `"${keyId}" must be 1-64 letters, digits, ".", "_" or "-"`);
  return { id: keyId, key: randomBytes(KEY_BYTES) };
}

/** The `id:base64` form that TUNEFORGE_CODEC_KEYS lists. */
export function formatKeyEntry(key: GeneratedKey): string {
  return `${key.id}:${key.key.toString('base64')}`;
}

/** Key ids only, safe to print: the current one first. */
export function describeKeys(keys: CodecKeys): string {
  const others = [...keys.keys.keys()].filter((id) => id !== keys.currentKeyId);
  return [`${keys.currentKeyId} (current)`, ...others].join(', ');
}
