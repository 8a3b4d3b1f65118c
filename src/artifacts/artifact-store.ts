// The artifact store: where a run's model, checkpoints and record outlive its nodes. One folder per run,
// addressed by URI; S3 or a local folder behind one interface.
import type { RemoteShell } from '../remote/remote-shell';
import type { SshTarget } from '../remote/ssh-session';

/** A node that files move to or from, with the shell to reach it. */
export interface NodeEndpoint {
  remote: RemoteShell;
  target: SshTarget;
}

export interface StoredObject {
  /** Relative to the run's folder, `/`-separated (e.g. `model/config.json`). */
  key: string;
  size: number;
}

export interface TransferStats {
  files: number;
  bytes: number;
  seconds: number;
}

/** Which files of a folder a transfer moves, by path relative to the folder. */
export interface FileFilter {
  only?: string[];
  exclude?: string[];
}

export interface VersionedJson {
  value: unknown;
  /** Opaque: S3's ETag, a folder store's content hash. */
  version: string;
}

export function selected(path: string, filter?: FileFilter): boolean {
  return (!filter?.only || filter.only.includes(path)) && !filter?.exclude?.includes(path);
}

export interface ArtifactStore {
  /** The run folder's URI, ending in `/`. */
  readonly uri: string;
  /** Writes and deletes a probe object: the store exists and this worker may write it. */
  checkWritable(): Promise<void>;
  /** Copies the files under `remoteDir` on the node into `key/`; with S3 the bytes go straight from the node. */
  uploadFolder(node: NodeEndpoint, remoteDir: string, key: string, options?: FileFilter): Promise<TransferStats>;
  /** Copies everything under `key/` into `remoteDir` on the node. */
  downloadFolder(node: NodeEndpoint, key: string, remoteDir: string, options?: FileFilter): Promise<TransferStats>;
  putJson(key: string, value: unknown): Promise<void>;
  /** Writes a text file (e.g. the model card, model/README.md) with its media type. */
  putText(key: string, text: string, contentType: string): Promise<void>;
  getJson(key: string): Promise<unknown>;
  /** A text file's content (e.g. a node's log under logs/); undefined when absent. */
  getText(key: string): Promise<string | undefined>;
  /** A JSON object with the version a conditional write compares against; undefined when absent. */
  getVersionedJson(key: string): Promise<VersionedJson | undefined>;
  /**
   * Writes `value` only if the object is still at `expected` (null: still absent), atomically against other
   * writers; false when another writer got there first (re-read and decide again).
   */
  putJsonIfUnchanged(key: string, value: unknown, expected: string | null): Promise<boolean>;
  list(prefix?: string): Promise<StoredObject[]>;
  /** Removes the given objects (keys as list returns them). */
  remove(keys: string[]): Promise<void>;
  /** Copies everything under `key/` to a folder on this machine. */
  downloadToLocal(key: string, dir: string, onBytes?: (bytes: number) => void): Promise<TransferStats>;
}

/** Keys and names that go into shell commands and S3 keys: nothing that could escape a folder. */
export function checkedKey(key: string): string {
  const segments = key.split('/');
  if (key.length === 0 || segments.some((s) => s === '' || s === '.' || s === '..' || /[\0-\x1f\x7f]/.test(s)))
    throw new Error(`not a store key: ${JSON.stringify(key)}`);
  return key;
}
