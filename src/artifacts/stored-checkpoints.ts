// Checkpoints in the artifact store: `checkpoints/checkpoint-N/`, complete only once its marker (written
// last, listing every file) exists. Readers ignore folders without one, so an upload cut short is never
// restored.
import type { ArtifactStore, NodeEndpoint, StoredObject, TransferStats } from './artifact-store';

export const CHECKPOINTS = 'checkpoints';
export const COMPLETE_MARKER = '_COMPLETE.json';
const CHECKPOINT_NAME = /^checkpoint-(\d+)$/;

export interface StoredCheckpoint {
  name: string;
  step: number;
}

export interface CheckpointMarker {
  name: string;
  step: number;
  files: Array<{ path: string; size: number }>;
  savedAt: string;
}

export function checkpointStep(name: string): number | undefined {
  const m = CHECKPOINT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Uploads `<parentDir>/<name>` from the node, then its marker. */
export async function saveCheckpoint(
  store: ArtifactStore,
  node: NodeEndpoint,
  parentDir: string,
  name: string,
): Promise<TransferStats> {
  const step = checkpointStep(name);
  if (step === undefined) throw new Error(`not a checkpoint name: ${name}`);
  const folder = `${CHECKPOINTS}/${name}`;
  const stats = await store.uploadFolder(node, `${parentDir}/${name}`, folder, { exclude: [COMPLETE_MARKER] });
  const files = (await store.list(`${folder}/`))
    .filter((o) => !o.key.endsWith(`/${COMPLETE_MARKER}`))
    .map((o) => ({ path: o.key.slice(folder.length + 1), size: o.size }));
  if (files.length !== stats.files) throw new Error(`${name}: ${stats.files} file(s) sent but ${files.length} stored`);
  const marker: CheckpointMarker = { name, step, files, savedAt: new Date().toISOString() };
  await store.putJson(`${folder}/${COMPLETE_MARKER}`, marker);
  return stats;
}

/** Complete checkpoints, newest first. */
export async function completeCheckpoints(store: ArtifactStore): Promise<StoredCheckpoint[]> {
  return groupCheckpoints(await store.list(`${CHECKPOINTS}/`))
    .filter((c) => c.complete)
    .map(({ name, step }) => ({ name, step }));
}

/** Puts the newest complete checkpoint into `<parentDir>/<name>` on the node; undefined when there is none. */
export async function restoreNewestCheckpoint(
  store: ArtifactStore,
  node: NodeEndpoint,
  parentDir: string,
): Promise<StoredCheckpoint | undefined> {
  const [newest] = await completeCheckpoints(store);
  if (!newest) return undefined;
  await store.downloadFolder(node, `${CHECKPOINTS}/${newest.name}`, `${parentDir}/${newest.name}`, {
    exclude: [COMPLETE_MARKER],
  });
  return newest;
}

/**
 * Keeps the newest `keep` complete checkpoints and removes the rest, incomplete ones included. A marker
 * goes before its files, so a removal cut short never leaves a folder that looks complete.
 */
export async function pruneCheckpoints(store: ArtifactStore, keep: number): Promise<string[]> {
  const all = groupCheckpoints(await store.list(`${CHECKPOINTS}/`));
  const kept = new Set(
    all
      .filter((c) => c.complete)
      .slice(0, keep)
      .map((c) => c.name),
  );
  const removed = all.filter((c) => !kept.has(c.name));
  for (const c of removed) {
    const marker = c.objects.filter((o) => o.key.endsWith(`/${COMPLETE_MARKER}`)).map((o) => o.key);
    await store.remove(marker);
    await store.remove(c.objects.map((o) => o.key).filter((k) => !marker.includes(k)));
  }
  return removed.map((c) => c.name);
}

interface CheckpointFolder extends StoredCheckpoint {
  complete: boolean;
  objects: StoredObject[];
}

function groupCheckpoints(objects: StoredObject[]): CheckpointFolder[] {
  const folders = new Map<string, CheckpointFolder>();
  for (const o of objects) {
    const name = o.key.split('/')[1] ?? '';
    const step = checkpointStep(name);
    if (step === undefined) continue;
    const folder = folders.get(name) ?? { name, step, complete: false, objects: [] };
    folder.objects.push(o);
    if (o.key === `${CHECKPOINTS}/${name}/${COMPLETE_MARKER}`) folder.complete = true;
    folders.set(name, folder);
  }
  return [...folders.values()].sort((a, b) => b.step - a.step);
}
