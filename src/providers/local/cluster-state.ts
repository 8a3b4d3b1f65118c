// On-disk records of local clusters: slot (a /24 of loopback per cluster), addresses, node records, hosts file.
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterRef, ClusterScope, NodeRecord } from '../provider';
import type { ClusterLayout, LabLayout } from './lab';
import type { NodeProcess } from './node-process';

export interface LocalClusterInfo {
  clusterId: string;
  runName: string;
  slot: number;
  createdAt: string;
  /** The launching worker's namespace and task queue (the local provider's tags): a reaper lists only its own. */
  scope?: ClusterScope;
}

export interface LocalNodeState {
  record: NodeRecord;
  process: NodeProcess;
}

const MAX_SLOTS = 250;
const FIRST_NODE_OCTET = 10;
const LAST_NODE_OCTET = 250;

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Claims a file that only one caller can create; false when it exists already. */
async function claim(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.writeFile(content);
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export async function ensureClusterInfo(lab: LabLayout, ref: ClusterRef): Promise<LocalClusterInfo> {
  const layout = lab.cluster(ref.clusterId);
  await mkdir(lab.slots, { recursive: true });
  const existing = await readJson<LocalClusterInfo>(layout.info);
  // After a reboot the recorded slot may be free or someone else's: claim it (again) either way.
  const slot = await claimSlot(lab, ref.clusterId, existing?.slot);
  // A cluster recorded before scopes were tagged gets its scope at its next launch.
  const untagged = existing !== undefined && existing.scope === undefined && ref.scope !== undefined;
  if (existing?.slot === slot && !untagged) return existing;
  if (existing) {
    const moved = { ...existing, slot, ...(ref.scope ? { scope: existing.scope ?? ref.scope } : {}) };
    await writeJsonAtomic(layout.info, moved);
    return moved;
  }
  await mkdir(layout.nodes, { recursive: true });
  await mkdir(layout.addresses, { recursive: true });
  const info: LocalClusterInfo = {
    clusterId: ref.clusterId,
    runName: ref.runName,
    slot,
    createdAt: new Date().toISOString(),
    ...(ref.scope ? { scope: ref.scope } : {}),
  };
  await writeFile(layout.hosts, hostsFileText([]));
  await writeJsonAtomic(layout.info, info);
  return info;
}

async function claimSlot(lab: LabLayout, clusterId: string, preferred?: number): Promise<number> {
  for (const entry of await readdir(lab.slots)) {
    if ((await readFile(join(lab.slots, entry), 'utf8').catch(() => '')) === clusterId) return Number(entry);
  }
  if (preferred !== undefined && (await claim(join(lab.slots, String(preferred)), clusterId))) return preferred;
  for (let slot = 1; slot <= MAX_SLOTS; slot++) {
    if (await claim(join(lab.slots, String(slot)), clusterId)) return slot;
  }
  throw new Error(`all ${MAX_SLOTS} local cluster slots are in use; tear down old clusters first`);
}

export async function releaseSlot(lab: LabLayout, info: LocalClusterInfo): Promise<void> {
  const path = join(lab.slots, String(info.slot));
  const owner = await readFile(path, 'utf8').catch(() => undefined);
  if (owner === info.clusterId) await rm(path, { force: true });
}

/** The node's loopback address: 127.0.<slot>.<10+index>, reused when the same name relaunches. */
export async function claimAddress(layout: ClusterLayout, info: LocalClusterInfo, name: string): Promise<string> {
  const preferred = preferredOctet(name);
  const candidates = [preferred, ...range(FIRST_NODE_OCTET, LAST_NODE_OCTET)].filter((o) => o !== undefined);
  for (const entry of await readdir(layout.addresses)) {
    if ((await readFile(join(layout.addresses, entry), 'utf8')) === name) return `127.0.${info.slot}.${entry}`;
  }
  for (const octet of candidates) {
    if (await claim(join(layout.addresses, String(octet)), name)) return `127.0.${info.slot}.${octet}`;
  }
  throw new Error(`no free address left in cluster ${info.clusterId}`);
}

export async function releaseAddress(layout: ClusterLayout, address: string): Promise<void> {
  const octet = address.split('.').at(-1);
  if (octet) await rm(join(layout.addresses, octet), { force: true });
}

function preferredOctet(name: string): number | undefined {
  if (name === 'master') return FIRST_NODE_OCTET;
  const match = /^worker-(\d+)$/.exec(name);
  const index = match ? Number(match[1]) : NaN;
  return index > 0 && FIRST_NODE_OCTET + index <= LAST_NODE_OCTET ? FIRST_NODE_OCTET + index : undefined;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export async function readNodeStates(layout: ClusterLayout): Promise<LocalNodeState[]> {
  let names: string[];
  try {
    names = await readdir(layout.nodes);
  } catch {
    return [];
  }
  const states = await Promise.all(names.map((name) => readJson<LocalNodeState>(layout.node(name).record)));
  return states.filter((s): s is LocalNodeState => s !== undefined);
}

export function hostsFileText(nodes: Array<{ name: string; privateAddress: string }>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) lines.push(`${node.privateAddress} ${node.name}`);
  return `${lines.join('\n')}\n`;
}

/** Rewrites the cluster's hosts file in place: nodes bind-mount it, and a rename would leave them the old inode. */
export async function rewriteHostsFile(layout: ClusterLayout, nodes: NodeRecord[]): Promise<void> {
  await writeFile(layout.hosts, hostsFileText(nodes.filter((n) => n.state === 'running')));
}
