// Puts a run's checked data files and model on one node: content-addressed copies under tuneforge/data/<sha256>/
// and tuneforge/models/<sha256>/ (kept when present with the right hash), then links at the paths the
// trainer reads (tuneforge/inputs/). Local files stream from the worker over SSH; S3 objects are fetched
// by the node through presigned GETs (it holds no credentials). The node hashes what it got: content
// other than what was checked fails the run (DataChanged) instead of training on it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, dirname } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactStore, NodeEndpoint } from '../artifacts/artifact-store';
import { formatArtifactUri, parseArtifactUri } from '../artifacts/artifact-uri';
import { createFolderStore } from '../artifacts/folder-store';
import { PRESIGN_SECONDS, runTransfer } from '../artifacts/s3-store';
import { dataChanged } from '../common/errors';
import { STAGED_MODEL_PATH, stagedDataPath } from '../recipes/recipe';
import { REMOTE } from '../recipes/remote-paths';
import { sh } from '../remote/shell-quote';
import { runInputs } from '../run-spec/expand-inputs';
import type { RunSpec } from '../run-spec/schema';
import { folderHash, outsideRoots, type CheckedFile, type CheckedInputs } from './check-inputs';

export interface StageSources {
  s3Client(region: string): S3Client;
  openStore(uri: string): ArtifactStore;
  region: string;
  localRoots?: string[];
}

export interface StagedNode {
  node: string;
  /** Files copied to the node now (the others were there already with the right hash). */
  copied: string[];
}

export async function stageInputs(
  spec: RunSpec,
  checked: CheckedInputs,
  node: NodeEndpoint,
  sources: StageSources,
): Promise<StagedNode> {
  const { data, model } = runInputs(spec);
  const copied: string[] = [];
  for (const split of ['train', 'validation'] as const) {
    const file = checked[split];
    if (!('sha256' in file)) continue;
    const stored = `${REMOTE.data}/${file.sha256}/data.${file.format}`;
    if (await stageFile(`data.${split}`, file, stored, node, sources)) copied.push(file.source);
    await link(node, `../data/${file.sha256}/data.${file.format}`, stagedDataPath(split, data[split]));
  }
  if (model.kind === 'path' && checked.model.sha256) {
    const folder = `${REMOTE.models}/${checked.model.sha256}`;
    if (await stageFolder(model.path, checked.model.sha256, folder, node)) copied.push(model.path);
    await link(node, `../models/${checked.model.sha256}`, STAGED_MODEL_PATH);
  } else if (model.kind === 'uri') {
    await stageModelUri(model.uri, node, sources);
    copied.push(model.uri);
  }
  return { node: node.target.name, copied };
}

async function nodeHash(node: NodeEndpoint, path: string): Promise<string | undefined> {
  const result = await node.remote.run(node.target, sh`test -f ${path} && sha256sum -- ${path}`, { label: `hash ${path}` });
  return result.exitCode === 0 ? result.stdout.split(' ')[0] : undefined;
}

/** True when the file was copied now, false when the node had it already. */
async function stageFile(
  field: string,
  file: CheckedFile,
  stored: string,
  node: NodeEndpoint,
  sources: StageSources,
): Promise<boolean> {
  if ((await nodeHash(node, stored)) === file.sha256) return false;
  const incoming = `${stored}.incoming`;
  const dir = stored.slice(0, stored.lastIndexOf('/'));
  await node.remote.check(node.target, sh`mkdir -p ${dir} && rm -f ${incoming}`, { label: `prepare ${dir}` });
  const location = file.kind === 'path' ? { kind: 'file' as const, path: file.source } : parseArtifactUri(file.source);
  if (location.kind === 'file') {
    // Checked again: a path swapped for a link since the check must not send another file anywhere.
    if (await outsideRoots(location.path, sources.localRoots))
      throw dataChanged({ field, source: file.source, expected: file.sha256, actual: 'a path outside the input folders' });
    await node.remote.check(node.target, sh`cat > ${incoming}`, {
      label: `copy ${file.source} to ${node.target.name}`,
      stdin: createReadStream(location.path),
    });
  } else {
    const url = await getSignedUrl(
      sources.s3Client(sources.region),
      new GetObjectCommand({ Bucket: location.bucket, Key: location.prefix }),
      { expiresIn: PRESIGN_SECONDS },
    );
    const name = incoming.slice(dir.length + 1);
    await runTransfer(node, dir, { downloads: [{ path: name, url, size: file.bytes }] });
  }
  const actual = (await nodeHash(node, incoming)) ?? 'missing';
  if (actual !== file.sha256) {
    await node.remote.run(node.target, sh`rm -f ${incoming}`, { label: 'remove the changed file' });
    throw dataChanged({ field, source: file.source, expected: file.sha256, actual, node: node.target.name });
  }
  await node.remote.check(node.target, sh`mv -f ${incoming} ${stored}`, { label: `keep ${stored}` });
  return true;
}

/** A model folder, copied by the folder store's download (tar over SSH); hashed again first so a folder changed since the check is never sent. */
async function stageFolder(path: string, sha256: string, folder: string, node: NodeEndpoint): Promise<boolean> {
  const marker = `${folder}/.tuneforge-complete`;
  const probe = await node.remote.run(node.target, sh`test -f ${marker}`, { label: `look for ${folder}` });
  if (probe.exitCode === 0) return false;
  const now = await folderHash(path);
  if (now.sha256 !== sha256) throw dataChanged({ field: 'model', source: path, expected: sha256, actual: now.sha256 });
  const incoming = `${folder}.incoming`;
  await node.remote.check(node.target, sh`rm -rf ${incoming}`, { label: `clear ${incoming}` });
  await createFolderStore(dirname(path)).downloadFolder(node, basename(path), incoming);
  await node.remote.check(
    node.target,
    sh`touch ${incoming}/.tuneforge-complete && rm -rf ${folder} && mv ${incoming} ${folder}`,
    { label: `keep ${folder}` },
  );
  return true;
}

/** A model in an artifact store (e.g. an earlier run's model/): the store's own download into a folder named by its URI. */
async function stageModelUri(uri: string, node: NodeEndpoint, sources: StageSources): Promise<void> {
  const location = parseArtifactUri(uri);
  const path = location.kind === 's3' ? location.prefix : location.path;
  const at = path.lastIndexOf('/');
  const key = path.slice(at + 1);
  const parent =
    location.kind === 's3'
      ? formatArtifactUri({ ...location, prefix: path.slice(0, Math.max(at, 0)) })
      : formatArtifactUri({ kind: 'file', path: path.slice(0, at) || '/' });
  const folder = `${REMOTE.models}/uri-${createHash('sha256').update(uri).digest('hex').slice(0, 32)}`;
  await node.remote.check(node.target, sh`rm -rf ${folder}`, { label: `clear ${folder}` });
  await sources.openStore(parent).downloadFolder(node, key, folder);
  await link(node, `../models/${folder.slice(REMOTE.models.length + 1)}`, STAGED_MODEL_PATH);
}

/** `tuneforge/inputs/<name>` -> a target relative to tuneforge/inputs. */
async function link(node: NodeEndpoint, target: string, at: string): Promise<void> {
  await node.remote.check(node.target, sh`mkdir -p ${REMOTE.inputs} && ln -sfn ${target} ${at}`, { label: `link ${at}` });
}
