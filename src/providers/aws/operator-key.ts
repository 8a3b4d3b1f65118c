// Reads the operator's SSH key files named in the spec; never logs or returns their content in errors.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { specInvalid } from '../../common/errors';
import type { AwsSettings } from '../../run-spec/schema';
import { normalizePublicKey, publicKeyFromPrivateKey } from './ssh-keys';

function isFileError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}

/** Key paths in specs are written for the operator's shell: "~/" means the home of the worker's user. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** What a file error means for the operator, in words (the error code kept for searching). */
export function keyFileProblem(path: string, code: string | undefined): string {
  const why: Record<string, string> = {
    ENOENT: 'does not exist',
    EACCES: 'is not readable by the worker',
    EPERM: 'is not readable by the worker',
    EISDIR: 'is a folder, not a key file',
    ENOTDIR: 'is under something that is not a folder',
  };
  return `${path} ${why[code ?? ''] ?? 'cannot be read'} (${code ?? 'error'}): name a readable OpenSSH key file`;
}

async function readKeyFile(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(expandHome(path));
  } catch (error) {
    if (!isFileError(error)) throw error;
    throw specInvalid([{ path: `aws.${field}`, message: keyFileProblem(path, error.code) }]);
  }
}

export function readPrivateKey(settings: AwsSettings): Promise<Buffer> {
  return readKeyFile(settings.privateKeyPath, 'privateKeyPath');
}

/** The public key to import as the cluster's key pair: publicKeyPath, else derived from the private key. */
export async function readPublicKey(settings: AwsSettings, privateKey: Buffer): Promise<string> {
  if (settings.publicKeyPath !== undefined) {
    const line = (await readKeyFile(settings.publicKeyPath, 'publicKeyPath')).toString('utf8');
    const publicKey = normalizePublicKey(line);
    if (publicKey === undefined) {
      throw specInvalid([
        { path: 'aws.publicKeyPath', message: `${settings.publicKeyPath} is not an OpenSSH public key: point it at a .pub file` },
      ]);
    }
    return publicKey;
  }
  const derived = publicKeyFromPrivateKey(privateKey.toString('utf8'));
  if (derived === undefined) {
    throw specInvalid([
      {
        path: 'aws.privateKeyPath',
        message: `cannot derive a public key from ${settings.privateKeyPath} (an encrypted PEM or a key type EC2 does not import): set aws.publicKeyPath, or use an ed25519 or RSA key`,
      },
    ]);
  }
  return derived;
}
