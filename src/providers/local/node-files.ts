// Prepares a local node's folder before it starts: its host key, sshd config and home.
import { chown, cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execLocal } from '../../common/exec-file';
import { NODE_ETC_MOUNT, NODE_USER, type NodeLayout } from './lab';

export interface NodeUser {
  uid: number;
  gid: number;
}

export async function lookupNodeUser(): Promise<NodeUser | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith(`${NODE_USER}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Generates the node's host key and sshd config; returns the public host key line. */
export async function writeNodeEtc(layout: NodeLayout, address: string): Promise<string> {
  // Readable by the node user: the spot notice appears here. The host key itself stays 0600, root's.
  await mkdir(layout.etc, { recursive: true, mode: 0o755 });
  const key = join(layout.etc, 'ssh_host_ed25519_key');
  await execLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', key]);
  await writeFile(join(layout.etc, 'sshd_config'), sshdConfig(address), { mode: 0o600 });
  return (await readFile(`${key}.pub`, 'utf8')).trim();
}

function sshdConfig(address: string): string {
  return [
    `ListenAddress ${address}:22`,
    `HostKey ${NODE_ETC_MOUNT}/ssh_host_ed25519_key`,
    'PidFile none',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    `AllowUsers ${NODE_USER}`,
    'AuthorizedKeysFile .ssh/authorized_keys',
    // Fan-out (mpirun starting one daemon per node, parallel uploads) needs more than the defaults.
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'ClientAliveInterval 15',
    'X11Forwarding no',
    'PrintMotd no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export interface HomeSeed {
  operatorPublicKey: string;
  pipCache: string;
}

/** A fresh home, as on a new instance of the base image: skeleton files and the operator's key. */
export async function seedBaseHome(dir: string, user: NodeUser, seed: HomeSeed): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await cp('/etc/skel', dir, { recursive: true });
  await mkdir(join(dir, '.ssh'), { mode: 0o700 });
  await writeFile(join(dir, '.ssh', 'authorized_keys'), `${seed.operatorPublicKey}\n`, { mode: 0o600 });
  await mkdir(join(dir, '.config', 'pip'), { recursive: true });
  await writeFile(join(dir, '.config', 'pip', 'pip.conf'), pipConfig(seed.pipCache));
  await chownTree(dir, user);
}

// The node user must resolve packages where root does (the CPU torch wheel lives in local folders).
function pipConfig(cacheDir: string): string {
  const lines = ['[global]', `cache-dir = ${cacheDir}`];
  if (process.env.PIP_FIND_LINKS) lines.push(`find-links = ${process.env.PIP_FIND_LINKS}`);
  if (process.env.PIP_INDEX_URL) lines.push(`index-url = ${process.env.PIP_INDEX_URL}`);
  if (process.env.PIP_EXTRA_INDEX_URL) lines.push(`extra-index-url = ${process.env.PIP_EXTRA_INDEX_URL}`);
  return `${lines.join('\n')}\n`;
}

export async function prepareOverlayDirs(layout: NodeLayout, user: NodeUser): Promise<void> {
  await mkdir(layout.upper, { recursive: true, mode: 0o755 });
  await mkdir(layout.work, { recursive: true, mode: 0o700 });
  await chown(layout.upper, user.uid, user.gid);
}

async function chownTree(dir: string, user: NodeUser): Promise<void> {
  await chown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, user);
    else await chown(path, user.uid, user.gid);
  }
}
