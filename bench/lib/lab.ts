// The bench's own lab root for the local provider, and what the bench reads from it on the host side:
// a node's job logs (its home is a folder or an overlay upper layer under the lab root), the checkpoint
// store, the launch log, and node processes to kill. Host-side reads cost no SSH session on the nodes,
// so they time the trainer's own progress lines without disturbing the run.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivityDeps } from '../../src/activities';
import { runArtifactsUri } from '../../src/artifacts/artifact-uri';
import { localArtifactsUri } from '../../src/providers/local/lab';
import { createStoreOpener } from '../../src/artifacts/open-store';
import { completeCheckpoints } from '../../src/artifacts/stored-checkpoints';
import type { RunContext } from '../../src/activities/types';
import type { RunSpec } from '../../src/run-spec/schema';
import { createLocalProvider } from '../../src/providers/local/local-provider';
import { scanNodeProcesses } from '../../src/providers/local/node-scan';
import type { Provider } from '../../src/providers/provider';
import { parseProgressLine, type ProgressEvent } from '../../src/recipes/progress';
import { REMOTE } from '../../src/recipes/remote-paths';
import { createRemoteShell } from '../../src/remote/remote-shell';
import { POLL_MS, sleep } from './common';

export interface BenchLab {
  root: string;
  /** TUNEFORGE_LOCAL_BOOT_DELAY_MS of this lab's provider: every node it launches answers SSH this late. */
  bootDelayMs: number;
  /** The lab's artifact store folder (file:// URI): models, checkpoints, run records. */
  artifactsUri: string;
  provider: Provider;
  /** The activities' dependencies as the production worker builds them for this lab (no Temporal client). */
  deps: ActivityDeps;
}

export function benchLab(root: string, bootDelayMs = 0): BenchLab {
  // Where the production worker on this lab root puts local runs' artifacts.
  const artifactsUri = localArtifactsUri(root);
  // Same options as src/worker/deps.ts gives the production worker: only the lab root differs.
  const provider = createLocalProvider({ labRoot: root, bootDelayMs });
  return {
    root,
    bootDelayMs,
    artifactsUri,
    provider,
    deps: {
      providerFor: () => provider,
      remote: createRemoteShell(),
      reportProgress: async () => undefined,
      pollIntervalMs: POLL_MS,
      openStore: createStoreOpener(),
      localArtifactsUri: artifactsUri,
    },
  };
}

/** Terminates every cluster of the lab and removes it, images and checkpoint store included. */
export async function removeLab(lab: BenchLab): Promise<void> {
  for (const clusterId of await lab.provider.listClusters()) {
    const ref = { clusterId, runName: clusterId };
    await lab.provider.terminateNodes(ref).catch(() => undefined);
    await lab.provider.cleanup(ref).catch(() => undefined);
  }
  await rm(lab.root, { recursive: true, force: true });
}

/** Where a job's log of a node lies on the host: under its home folder (base image) or overlay upper layer (baked image). */
export function jobLogPaths(lab: BenchLab, clusterId: string, node: string, jobId: string): string[] {
  const nodeDir = join(lab.root, 'clusters', clusterId, 'nodes', node);
  const rel = join(REMOTE.jobs, jobId, 'log');
  return [join(nodeDir, 'home', rel), join(nodeDir, 'upper', rel)];
}

export interface SeenEvent {
  at: number;
  event: ProgressEvent;
}

/**
 * Resolves with the wall-clock time at which the first progress event matching `match` appeared in
 * one of the files (read every `everyMs`, from the start of whichever file exists). The resolution is
 * `everyMs` plus a local file read.
 */
export async function watchProgress(
  paths: string[],
  match: (event: ProgressEvent) => boolean,
  signal: AbortSignal,
  everyMs = 50,
): Promise<SeenEvent> {
  const offsets = new Map<string, { offset: number; partial: string }>();
  while (!signal.aborted) {
    for (const path of paths) {
      const state = offsets.get(path) ?? { offset: 0, partial: '' };
      const chunk = await readFrom(path, state.offset);
      if (chunk.length === 0) continue;
      const at = Date.now();
      state.offset += chunk.length;
      const text = state.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      state.partial = lines.pop() ?? '';
      offsets.set(path, state);
      for (const line of lines) {
        const event = parseProgressLine(line);
        if (event && match(event)) return { at, event };
      }
    }
    await sleep(everyMs);
  }
  throw new Error(`stopped watching ${paths.join(', ')}`);
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Every progress event a job's log holds now (empty when the file is gone). */
export async function progressEvents(paths: string[]): Promise<ProgressEvent[]> {
  for (const path of paths) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    return text
      .split('\n')
      .map((line) => parseProgressLine(line))
      .filter((e): e is ProgressEvent => e !== undefined);
  }
  return [];
}

export function lastStep(events: ProgressEvent[]): number | null {
  const steps = events.filter((e): e is Extract<ProgressEvent, { event: 'step' }> => e.event === 'step');
  return steps.at(-1)?.step ?? null;
}

/** A run's context as prepare-artifacts leaves it: with its folder in the lab's artifact store. */
export function benchContext(lab: BenchLab, clusterId: string, spec: RunSpec): RunContext {
  return { clusterId, spec, artifacts: runArtifactsUri(lab.artifactsUri, spec.name, clusterId) };
}

/** Resolves when the artifact store holds a complete checkpoint of the run (uploaded off the master). */
export async function waitStoredCheckpoint(lab: BenchLab, ctx: RunContext, signal: AbortSignal): Promise<string> {
  while (!signal.aborted) {
    const [oldest] = (await completeCheckpoints(lab.deps.openStore(ctx.artifacts ?? '', 'us-east-1'))).reverse();
    if (oldest) return oldest.name;
    await sleep(50);
  }
  throw new Error('stopped waiting for a stored checkpoint');
}

/** SIGKILLs a node's unshare parent: every process of the node ends at once, a vanished instance. */
export async function killNode(lab: BenchLab, clusterId: string, name: string): Promise<number> {
  const marker = `${lab.root}/clusters/${clusterId}/nodes/${name}/`;
  const [node] = (await scanNodeProcesses()).filter((p) => p.etcDir.startsWith(marker));
  if (!node) throw new Error(`no process for node ${name} of ${clusterId}`);
  process.kill(node.pid, 'SIGKILL');
  return Date.now();
}

/** Launch times of a cluster's node processes, from the provider's launch log. */
export async function launches(lab: BenchLab, clusterId: string): Promise<Array<{ name: string; at: number }>> {
  const text = await readFile(join(lab.root, 'launches.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { clusterId: string; name: string; at: string })
    .filter((entry) => entry.clusterId === clusterId)
    .map((entry) => ({ name: entry.name, at: Date.parse(entry.at) }));
}
