// SSH key material for EC2: the operator's public key (for the key pair) and per-node host keys.
// Host keys are derived, not random: HKDF over the operator's private key file, the cluster id and
// the node name. Every retry of a launch therefore sends byte-identical user data (so the
// RunInstances client token stays valid), and listNodes can name the pinned key of any node.
import { createHash, createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';

const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
// Built from parts so that no source file looks like a committed private key to secret scanners.
const KEY_LABEL = ['OPENSSH', 'PRIVATE', 'KEY'].join(' ');
export const OPENSSH_BEGIN = `-----BEGIN ${KEY_LABEL}-----`;
const OPENSSH_END = `-----END ${KEY_LABEL}-----`;
const ED25519 = 'ssh-ed25519';
/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const HOST_KEY_SALT = 'tuneforge host key v1';

export interface HostKeyPair {
  /** "ssh-ed25519 AAAA..." */
  publicKey: string;
  /** OpenSSH private key file content; goes only into the instance's user data. */
  privateKey: string;
}

function sshString(value: Buffer | string): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** SSH mpint: big-endian, with a leading zero byte when the high bit is set. */
function sshMpint(value: Buffer): Buffer {
  const highBitSet = value.length > 0 && (value.readUInt8(0) & 0x80) !== 0;
  return sshString(highBitSet ? Buffer.concat([Buffer.alloc(1), value]) : value);
}

function readSshString(buffer: Buffer, offset: number): { value: Buffer; next: number } {
  if (offset + 4 > buffer.length) throw new Error('truncated SSH key data');
  const length = buffer.readUInt32BE(offset);
  const end = offset + 4 + length;
  if (end > buffer.length) throw new Error('truncated SSH key data');
  return { value: buffer.subarray(offset + 4, end), next: end };
}

function formatPublicKey(blob: Buffer): string {
  const type = readSshString(blob, 0).value.toString('utf8');
  return `${type} ${blob.toString('base64')}`;
}

/** Public key of an OpenSSH-format private key; the public part is stored unencrypted, so this works for passphrase-protected keys too. */
function publicKeyFromOpenSsh(text: string): string | undefined {
  const start = text.indexOf(OPENSSH_BEGIN);
  const end = text.indexOf(OPENSSH_END);
  if (start < 0 || end < start) return undefined;
  const body = Buffer.from(text.slice(start + OPENSSH_BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  if (!body.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
  let offset = OPENSSH_MAGIC.length;
  for (let field = 0; field < 3; field += 1) offset = readSshString(body, offset).next; // cipher, kdf, kdf options
  offset += 4; // number of keys
  return formatPublicKey(readSshString(body, offset).value);
}

function publicKeyFromKeyObject(key: KeyObject): string | undefined {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'ed25519' && typeof jwk.x === 'string') {
    return formatPublicKey(Buffer.concat([sshString(ED25519), sshString(Buffer.from(jwk.x, 'base64url'))]));
  }
  if (key.asymmetricKeyType === 'rsa' && typeof jwk.n === 'string' && typeof jwk.e === 'string') {
    const blob = Buffer.concat([
      sshString('ssh-rsa'),
      sshMpint(Buffer.from(jwk.e, 'base64url')),
      sshMpint(Buffer.from(jwk.n, 'base64url')),
    ]);
    return formatPublicKey(blob);
  }
  return undefined;
}

/**
 * The OpenSSH public key ("ssh-ed25519 AAAA...") of a private key file, when it can be derived:
 * any OpenSSH-format key, or an unencrypted PEM RSA/Ed25519 key (the types EC2 imports).
 */
export function publicKeyFromPrivateKey(privateKeyText: string): string | undefined {
  if (privateKeyText.includes(OPENSSH_BEGIN)) return publicKeyFromOpenSsh(privateKeyText);
  let key: KeyObject;
  try {
    key = createPublicKey(privateKeyText);
  } catch {
    // Encrypted or unknown PEM: the caller asks for publicKeyPath instead.
    return undefined;
  }
  return publicKeyFromKeyObject(key);
}

/** "type base64" without the comment, after checking it parses as an SSH public key line. */
export function normalizePublicKey(line: string): string | undefined {
  const [type, base64] = line.trim().split(/\s+/);
  if (type === undefined || base64 === undefined || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 8 || readSshString(blob, 0).value.toString('utf8') !== type) return undefined;
  return `${type} ${base64}`;
}

/** Short stable id of a public key (hex of its SHA-256), used in the key pair name. */
export function publicKeyId(publicKey: string): string {
  const base64 = publicKey.split(' ')[1] ?? publicKey;
  return createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex').slice(0, 12);
}

function wrapPem(body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return [OPENSSH_BEGIN, ...lines, OPENSSH_END, ''].join('\n');
}

function encodeOpenSshEd25519(seed: Buffer, publicBytes: Buffer): string {
  const publicBlob = Buffer.concat([sshString(ED25519), sshString(publicBytes)]);
  const check = createHash('sha256').update(seed).digest().subarray(0, 4); // deterministic check bytes
  const unpadded = Buffer.concat([
    check,
    check,
    sshString(ED25519),
    sshString(publicBytes),
    sshString(Buffer.concat([seed, publicBytes])),
    sshString(''),
  ]);
  const paddingLength = (8 - (unpadded.length % 8)) % 8;
  const padding = Buffer.from(Array.from({ length: paddingLength }, (_, index) => index + 1));
  const body = Buffer.concat([
    OPENSSH_MAGIC,
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob),
    sshString(Buffer.concat([unpadded, padding])),
  ]);
  return wrapPem(body);
}

/** The host key pair of one node, derived from the operator's secret; same inputs, same keys. */
export function deriveHostKey(secret: Buffer, clusterId: string, nodeName: string): HostKeyPair {
  const info = `${clusterId}\0${nodeName}`;
  const seed = Buffer.from(hkdfSync('sha256', secret, HOST_KEY_SALT, info, 32));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('node:crypto returned an Ed25519 key without its public part');
  const publicBytes = Buffer.from(jwk.x, 'base64url');
  return {
    publicKey: formatPublicKey(Buffer.concat([sshString(ED25519), sshString(publicBytes)])),
    privateKey: encodeOpenSshEd25519(seed, publicBytes),
  };
}
