// Host key pinning: a node's OpenSSH public key line, its SHA256 fingerprint and the raw blob ssh2 shows.
import { createHash } from 'node:crypto';

export interface ParsedHostKey {
  algorithm: string;
  blob: Buffer;
}

export function parseHostKey(line: string): ParsedHostKey {
  const [algorithm, base64] = line.trim().split(/\s+/);
  if (!algorithm || !base64) throw new Error(`not an OpenSSH public key line: ${line.slice(0, 40)}`);
  return { algorithm, blob: Buffer.from(base64, 'base64') };
}

/** Same text as `ssh-keygen -lf`: SHA256:<base64 without padding>. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
