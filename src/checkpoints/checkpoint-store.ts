// Where checkpoints live off the master, so losing the master loses no training: a folder the worker
// writes (one tar per checkpoint, newest few kept). Found by cluster id.
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

export interface StoredCheckpoint {
  /** checkpoint-N */
  name: string;
  step: number;
  path: string;
}

export interface CheckpointStore {
  /** Stores a checkpoint as the tar that `write` produces; an interrupted write leaves no entry. */
  save(clusterId: string, name: string, write: (out: Writable) => Promise<void>): Promise<void>;
  newest(clusterId: string): Promise<StoredCheckpoint | undefined>;
  remove(clusterId: string): Promise<void>;
}

const CHECKPOINT_NAME = /^checkpoint-(\d+)$/;
const KEEP = 2;

export function createFolderCheckpointStore(root: string): CheckpointStore {
  const folder = (clusterId: string) => join(root, clusterId);
  const list = async (clusterId: string): Promise<StoredCheckpoint[]> => {
    const names = await readdir(folder(clusterId)).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith('.tar'))
      .map((file) => ({ name: file.slice(0, -'.tar'.length), path: join(folder(clusterId), file) }))
      .map((c) => ({ ...c, step: Number(CHECKPOINT_NAME.exec(c.name)?.[1] ?? NaN) }))
      .filter((c) => Number.isInteger(c.step))
      .sort((a, b) => b.step - a.step);
  };
  return {
    async save(clusterId, name, write) {
      if (!CHECKPOINT_NAME.test(name)) throw new Error(`not a checkpoint name: ${name}`);
      await mkdir(folder(clusterId), { recursive: true, mode: 0o700 });
      const final = join(folder(clusterId), `${name}.tar`);
      const partial = `${final}.partial-${process.pid}`;
      const out = createWriteStream(partial);
      try {
        await write(out);
        out.end();
        await finished(out);
        await rename(partial, final);
      } finally {
        await rm(partial, { force: true });
      }
      for (const old of (await list(clusterId)).slice(KEEP)) await rm(old.path, { force: true });
    },
    newest: async (clusterId) => (await list(clusterId))[0],
    remove: (clusterId) => rm(folder(clusterId), { recursive: true, force: true }),
  };
}
