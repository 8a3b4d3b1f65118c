// Finds node processes by what they were started with (their "tags"), not by pids held in memory:
// a crash between starting a node and recording it can never leak it.
import { readdir, readFile } from 'node:fs/promises';

export interface ScannedNode {
  pid: number;
  /** The node's etc folder argument: <lab>/clusters/<cluster>/nodes/<name>/etc */
  etcDir: string;
}

const NODE_MARKER = 'tuneforge-node';

export async function scanNodeProcesses(): Promise<ScannedNode[]> {
  const found: ScannedNode[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = await readCmdline(entry);
    if (args[0] !== 'unshare') continue;
    const marker = args.indexOf(NODE_MARKER);
    const etcDir = marker >= 0 ? args[marker + 2] : undefined;
    if (etcDir) found.push({ pid: Number(entry), etcDir });
  }
  return found;
}

async function readCmdline(pid: string): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a.length > 0);
  } catch {
    return [];
  }
}
