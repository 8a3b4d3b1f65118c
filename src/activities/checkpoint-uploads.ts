// Uploads each checkpoint the trainer reports to the artifact store in the background, so a slow upload
// never stalls training or the progress poll. Only the newest waiting checkpoint is uploaded next.
import { Context } from '@temporalio/activity';
import type { ArtifactStore, NodeEndpoint } from '../artifacts/artifact-store';
import { saveCheckpoint } from '../artifacts/stored-checkpoints';
import { REMOTE } from '../recipes/remote-paths';
import { sh } from '../remote/shell-quote';

/** Hard-link snapshots of checkpoints being uploaded: the trainer may rotate a folder away mid-upload. */
const SNAPSHOTS = `${REMOTE.root}/upload-snapshots`;

export interface CheckpointUploader {
  /** Queues the checkpoint folder at this path on the node (replacing any older one still waiting). */
  enqueue(path: string): void;
  /** Resolves once nothing is waiting or uploading. */
  settle(): Promise<void>;
}

export function checkpointUploader(store: ArtifactStore, node: NodeEndpoint): CheckpointUploader {
  let waiting: string | undefined;
  let draining: Promise<void> | undefined;
  const upload = async (path: string): Promise<void> => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const snapshot = `${SNAPSHOTS}/${name}`;
    await node.remote.check(node.target, sh`rm -rf ${snapshot} && mkdir -p ${SNAPSHOTS} && cp -al ${path} ${snapshot}`, {
      label: `snapshot ${name}`,
    });
    try {
      await saveCheckpoint(store, node, SNAPSHOTS, name);
    } finally {
      await node.remote
        .run(node.target, sh`rm -rf ${snapshot}`, { label: `drop the snapshot of ${name}` })
        .catch(() => undefined);
    }
  };
  const drain = async (): Promise<void> => {
    while (waiting) {
      const path = waiting;
      waiting = undefined;
      await upload(path).catch((err: unknown) => {
        // A missed upload costs master-loss coverage until the next save; it must not fail the training.
        Context.current().log.warn('could not upload a checkpoint to the artifact store', { path, error: String(err) });
      });
    }
    draining = undefined;
  };
  return {
    enqueue(path) {
      waiting = path;
      draining ??= drain();
    },
    settle: async () => {
      while (draining) await draining;
    },
  };
}
