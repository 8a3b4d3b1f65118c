// The SSH connections a process holds, read from the kernel (/proc/<pid>/fd and /proc/<pid>/net/tcp),
// not from the code that opened them: remote port 22 is a node's sshd (local nodes are 127.0.<slot>.<n>).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface SshConnection {
  /** The node's address. */
  remote: string;
  localPort: number;
}

const SSH_PORT = 22;
const LISTEN = '0A';

export function sshConnectionsOf(pid: number = process.pid): SshConnection[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const socket = /^socket:\[(\d+)\]$/.exec(link);
      if (socket?.[1]) inodes.add(socket[1]);
    } catch {
      // closed while we looked
    }
  }
  const rows = readFileSync(`/proc/${pid}/net/tcp`, 'utf8').trim().split('\n').slice(1);
  const found: SshConnection[] = [];
  for (const row of rows) {
    const [, local, remote, state, , , , , , inode] = row.trim().split(/\s+/);
    if (!local || !remote || !inode || state === LISTEN || !inodes.has(inode)) continue;
    const [remoteHex, remotePortHex] = remote.split(':');
    if (Number.parseInt(remotePortHex ?? '', 16) !== SSH_PORT) continue;
    found.push({ remote: ipv4(remoteHex ?? ''), localPort: Number.parseInt(local.split(':')[1] ?? '', 16) });
  }
  return found;
}

/** How many SSH connections the process holds to each address. */
export function connectionsPerNode(pid: number = process.pid): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of sshConnectionsOf(pid)) counts[c.remote] = (counts[c.remote] ?? 0) + 1;
  return counts;
}

/** /proc/net/tcp writes an IPv4 address as 8 hex digits in the host's (little-endian) byte order. */
function ipv4(hex: string): string {
  const bytes = (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16));
  return bytes.reverse().join('.');
}

/** Waits (bounded) until the process holds no SSH connection; returns what it still holds at the end. */
export async function untilNoSshConnection(pid: number, withinMs: number): Promise<SshConnection[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const held = sshConnectionsOf(pid);
    if (held.length === 0 || Date.now() > deadline) return held;
    await new Promise((r) => setTimeout(r, 200));
  }
}
