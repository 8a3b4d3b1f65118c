// `tuneforge artifacts <run>` lists what a run stored; `tuneforge pull <run> [dir]` downloads its model.
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { StoredObject, TransferStats } from '../../artifacts/artifact-store';
import { parseArtifactUri } from '../../artifacts/artifact-uri';
import { createStoreOpener } from '../../artifacts/open-store';
import { defaultS3Region } from '../../artifacts/s3-client';
import { MODEL_KEY } from '../../artifacts/run-layout';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';

export class NoArtifacts extends Error {
  override readonly name = 'NoArtifacts';
}

/** The run's folder in the artifact store, from its search attribute (no worker needed, closed runs too). */
export async function artifactsFolderOfRun(client: Client, workflowId: string): Promise<string> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const uri = description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.artifacts);
  if (!uri) throw new NoArtifacts(`run ${workflowId} has no artifact store (it ended before prepare-artifacts, or predates it)`);
  parseArtifactUri(uri);
  return uri;
}

function openRunStore(uri: string) {
  return createStoreOpener()(uri, defaultS3Region());
}

export async function listArtifacts(uri: string): Promise<StoredObject[]> {
  return (await openRunStore(uri).list()).sort((a, b) => a.key.localeCompare(b.key));
}

export function formatArtifacts(uri: string, objects: StoredObject[]): string {
  const width = Math.max(4, ...objects.map((o) => o.key.length));
  return [
    uri,
    ...objects.map((o) => `  ${o.key.padEnd(width)}  ${formatBytes(o.size).padStart(10)}`),
    `${objects.length} object(s), ${formatBytes(objects.reduce((n, o) => n + o.size, 0))}`,
  ].join('\n');
}

export async function pullModel(
  uri: string,
  dir: string,
  onProgress?: (done: number, total: number) => void,
): Promise<TransferStats> {
  const store = openRunStore(uri);
  const files = await store.list(`${MODEL_KEY}/`);
  if (files.length === 0) throw new NoArtifacts(`no model in ${uri} (the run did not deliver one; see tuneforge artifacts)`);
  const total = files.reduce((n, f) => n + f.size, 0);
  return store.downloadToLocal(MODEL_KEY, resolve(dir), (done) => onProgress?.(done, total));
}

/** A one-line progress bar for a terminal, redrawn in place. */
export function progressBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(done)} / ${formatBytes(total)}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
