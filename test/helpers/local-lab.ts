// A local provider on a test lab folder, and the deps real activities need to use it.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivityDeps } from '../../src/activities';
import type { ArtifactStore } from '../../src/artifacts/artifact-store';
import { runArtifactsUri } from '../../src/artifacts/artifact-uri';
import { createStoreOpener } from '../../src/artifacts/open-store';
import { defaultS3Region } from '../../src/artifacts/s3-client';
import { completeCheckpoints, type StoredCheckpoint } from '../../src/artifacts/stored-checkpoints';
import { DEFAULT_PIP_CACHE, labLayout, localArtifactsUri } from '../../src/providers/local/lab';
import { imageDir } from '../../src/providers/local/images';
import { NOTICE_FILE } from '../../src/providers/local/interruption';
import { createLocalProvider } from '../../src/providers/local/local-provider';
import { processStartTime } from '../../src/providers/local/node-process';
import { scanNodeProcesses } from '../../src/providers/local/node-scan';
import { createRemoteShell } from '../../src/remote/remote-shell';
import { bindRun } from '../../src/providers/run-provider';

export const TEST_LAB_ROOT = process.env.TUNEFORGE_TEST_LAB ?? '/var/lib/tuneforge/test-lab';

/** Where local test runs that name no store keep their artifacts. */
export const TEST_ARTIFACTS_URI = localArtifactsUri(TEST_LAB_ROOT);

/** The lab's provider, as the worker holds it (settings per call). */
export const testLabProvider = createLocalProvider({ labRoot: TEST_LAB_ROOT, tmpSizeMiB: 512 });
/** The same, bound to a local run's settings as an activity binds it: what tests call directly. */
export const testProvider = bindRun(testLabProvider, { provider: 'local' });

export function testDeps(overrides: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    providerFor: () => testLabProvider,
    remote: createRemoteShell(),
    reportProgress: async () => undefined,
    pollIntervalMs: 300,
    openStore: createStoreOpener(),
    localArtifactsUri: TEST_ARTIFACTS_URI,
    ...overrides,
  };
}

/** Node processes of a cluster still alive on this machine, found by their command line. */
export async function liveNodeProcesses(clusterId: string): Promise<number> {
  const marker = `/clusters/${clusterId}/`;
  return (await scanNodeProcesses()).filter((p) => p.etcDir.includes(marker)).length;
}

/**
 * The node processes of a cluster alive now, by node name: "pid@start time" of each node's `unshare` parent,
 * found on the machine by command line (not from the provider's records). A relaunched node has a new one.
 */
export async function nodeProcessesOf(clusterId: string): Promise<Map<string, string>> {
  const marker = `/clusters/${clusterId}/nodes/`;
  const found = new Map<string, string>();
  const scanned = await scanNodeProcesses();
  const pids = new Set(scanned.map((p) => p.pid));
  for (const p of scanned) {
    const at = p.etcDir.indexOf(marker);
    if (at < 0) continue;
    // `unshare --fork`'s child has the parent's command line until it execs the node's shell: not a second node.
    if (pids.has(await parentPid(p.pid))) continue;
    const name = p.etcDir.slice(at + marker.length).split('/')[0] ?? '';
    const startTime = await processStartTime(p.pid).catch(() => undefined);
    if (startTime !== undefined) found.set(name, `${p.pid}@${startTime}`);
  }
  return found;
}

/** The parent's pid of a process, from /proc/<pid>/stat (the field after the parenthesised command name). */
async function parentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? NaN);
}

export interface NodeProcessSampler {
  /** Stops sampling; every distinct node process seen, by node name. */
  stop(): Promise<Map<string, Set<string>>>;
  /** What was seen so far, while sampling goes on. */
  seen(): Map<string, Set<string>>;
}

/**
 * Samples a cluster's node processes while a run goes on: how many node processes really existed (a node is
 * started once and lives until teardown, far longer than the interval), rather than what the code counted.
 */
export function sampleNodeProcesses(clusterId: string, intervalMs = 250): NodeProcessSampler {
  const seen = new Map<string, Set<string>>();
  let stopped = false;
  const record = async () => {
    for (const [name, identity] of await nodeProcessesOf(clusterId)) {
      if (!seen.has(name)) seen.set(name, new Set());
      seen.get(name)?.add(identity);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await record();
      await new Promise((done) => setTimeout(done, intervalMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return seen;
    },
    seen: () => seen,
  };
}

/** Node name -> how many distinct processes it had, e.g. { master: 1, 'worker-1': 2 }. */
export function processesPerNode(seen: Map<string, Set<string>>): Record<string, number> {
  return Object.fromEntries([...seen].map(([name, identities]) => [name, identities.size]).sort());
}

/** The artifact store folder of one run of a local test lab. */
export function runStoreOf(runName: string, workflowId: string, base = TEST_ARTIFACTS_URI): ArtifactStore {
  return createStoreOpener()(runArtifactsUri(base, runName, workflowId), defaultS3Region());
}

/** The complete checkpoints a run has in the store, looked up by workflow id. */
export function storedCheckpoints(runName: string, base = TEST_ARTIFACTS_URI) {
  return {
    newest: async (workflowId: string): Promise<StoredCheckpoint | undefined> =>
      (await completeCheckpoints(runStoreOf(runName, workflowId, base)))[0],
  };
}

/**
 * Terminates and removes every cluster of the test lab whose id starts with one of the prefixes: an
 * `after` hook for whole-run tests, so a failed or timed-out test never leaves mpirun eating the cores.
 */
export async function removeClustersStartingWith(...prefixes: string[]): Promise<void> {
  for (const clusterId of await testProvider.listClusters()) {
    if (!prefixes.some((p) => clusterId.startsWith(p))) continue;
    const ref = { clusterId, runName: clusterId };
    await testProvider.terminateNodes(ref).catch(() => undefined);
    await testProvider.cleanup(ref).catch(() => undefined);
  }
}

/** A spot notice on a local node, as EC2 gives one two minutes ahead: the file the node's notice command reads. */
export async function sendInterruptionNotice(clusterId: string, nodeName: string, labRoot = TEST_LAB_ROOT): Promise<void> {
  const node = labLayout(labRoot, DEFAULT_PIP_CACHE).cluster(clusterId).node(nodeName);
  await writeFile(join(node.etc, NOTICE_FILE), `${JSON.stringify({ action: 'terminate', time: new Date().toISOString() })}\n`);
}

/** Removes a baked image from the test lab, so that the next run must install and bake. */
export async function deleteLocalImage(fingerprint: string, labRoot = TEST_LAB_ROOT): Promise<void> {
  await rm(imageDir(labLayout(labRoot, DEFAULT_PIP_CACHE), fingerprint), { recursive: true, force: true });
}

/** SIGKILLs a local node's process (its sshd and everything under it): an instance that is gone. */
export async function killNode(clusterId: string, name: string): Promise<void> {
  const marker = `/clusters/${clusterId}/nodes/${name}/`;
  const [node] = (await scanNodeProcesses()).filter((p) => p.etcDir.includes(marker));
  if (!node) throw new Error(`no process for ${name}`);
  process.kill(node.pid, 'SIGKILL');
}
