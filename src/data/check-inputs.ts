// The worker's check of a run's inputs before anything is launched: each data file (local or S3) is
// streamed once, hashed whole (sha256) and its first DATA_CHECK_BYTES read as rows; a local model folder is
// hashed file by file; a model URI must hold files. Hub sources are checked later, on the master.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { parseArtifactUri } from '../artifacts/artifact-uri';
import type { ArtifactStore } from '../artifacts/artifact-store';
import { authFailedFor } from '../common/errors';
import { runInputs } from '../run-spec/expand-inputs';
import { extensionOf, type DataExtension, type DataSource, type ModelSource } from '../run-spec/inputs';
import type { RunSpec } from '../run-spec/schema';
import { describeSource } from './describe-source';
import { MalformedData, rowParser } from './rows';
import { crossCheck, DataRefused, labelColumnOf, splitChecker, type SplitField } from './split-check';

/** Rows are checked in the first 64 MiB of each file (the hash covers all of it); the trainer reads the rest. */
export const DATA_CHECK_BYTES = 64 * 1024 * 1024;

export interface CheckedFile {
  kind: 'path' | 'uri';
  /** The path or URI as the spec gave it. */
  source: string;
  format: DataExtension;
  sha256: string;
  bytes: number;
  /** Rows in the part checked (all of them unless truncated). */
  rows: number;
  /** The file is longer than DATA_CHECK_BYTES: rows after that were not checked. */
  truncated: boolean;
  labels?: string[];
}

/** A hub split (checked on the master after install) or a preset's own file: nothing to stage. */
export interface UncheckedSource {
  kind: 'hub' | 'asset';
  source: string;
}

export interface CheckedModel {
  kind: ModelSource['kind'];
  source: string;
  /** Local folders: sha256 over each file's relative path and content, in path order. */
  sha256?: string;
  files?: number;
}

export interface CheckedInputs {
  train: CheckedFile | UncheckedSource;
  validation: CheckedFile | UncheckedSource;
  model: CheckedModel;
}

export interface CheckSources {
  s3Client(region: string): S3Client;
  openStore(uri: string): ArtifactStore;
  region: string;
  limitBytes?: number;
  /** Folders local sources must be in (after symlinks are resolved); none: any path the worker can read. */
  localRoots?: string[];
}

/** Why a local path may not be read, or undefined: it must resolve (symlinks too) inside one of the roots. */
export async function outsideRoots(path: string, roots: string[] | undefined): Promise<string | undefined> {
  if (!roots || roots.length === 0) return undefined;
  const real = await realpath(path).catch(() => path);
  if (roots.some((root) => real === root || real.startsWith(`${root.replace(/\/$/, '')}/`))) return undefined;
  return `is outside the folders this worker reads inputs from (TUNEFORGE_INPUT_ROOTS: ${roots.join(':')})`;
}

export async function checkInputs(spec: RunSpec, sources: CheckSources): Promise<CheckedInputs> {
  const { task, data, model } = runInputs(spec);
  const labelColumn = labelColumnOf(data.columns);
  const check = (field: SplitField, source: DataSource) =>
    source.kind === 'hub' || source.kind === 'asset'
      ? Promise.resolve<UncheckedSource>({ kind: source.kind, source: describeSource(source) })
      : checkFile(field, source, sources, (where) => splitChecker(task, data.columns, where));
  const train = await check('data.train', data.train);
  const validation = await check('data.validation', data.validation);
  if ('sha256' in train && 'sha256' in validation) {
    const problem = crossCheck(
      task,
      labelColumn,
      { ...train, file: train.source },
      { ...validation.summary, file: validation.source },
    );
    if (problem) throw new DataRefused(problem);
  }
  return { train: strip(train), validation: strip(validation), model: await checkModel(model, sources) };
}

type FileResult = CheckedFile & { summary: ReturnType<ReturnType<typeof splitChecker>['summary']> };

function strip(checked: FileResult | UncheckedSource): CheckedFile | UncheckedSource {
  if (!('summary' in checked)) return checked;
  const { summary: _summary, ...rest } = checked;
  return rest;
}

async function checkFile(
  field: SplitField,
  source: Extract<DataSource, { kind: 'path' | 'uri' }>,
  sources: CheckSources,
  checker: (where: { field: SplitField; file: string }) => ReturnType<typeof splitChecker>,
): Promise<FileResult> {
  const file = source.kind === 'path' ? source.path : source.uri;
  const format = extensionOf(file);
  const refuse = (reason: string, row?: number | null): never => {
    throw new DataRefused({ field, file, ...(row ? { row } : {}), reason });
  };
  if (!format) return refuse('is not a .jsonl, .json or .csv file');
  const rows = checker({ field, file });
  const parser = rowParser(format, rows, sources.limitBytes ?? DATA_CHECK_BYTES);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of await openSource(source, sources, refuse)) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      bytes += buffer.length;
      parser.push(buffer);
    }
    const { truncated } = parser.end();
    const summary = rows.summary();
    return {
      kind: source.kind,
      source: file,
      format,
      sha256: hash.digest('hex'),
      bytes,
      rows: summary.rows,
      truncated,
      ...(summary.labels ? { labels: summary.labels } : {}),
      summary,
    };
  } catch (err) {
    if (err instanceof MalformedData) return refuse(err.message, err.row);
    throw err;
  }
}

async function openSource(
  source: Extract<DataSource, { kind: 'path' | 'uri' }>,
  sources: CheckSources,
  refuse: (reason: string) => never,
): Promise<AsyncIterable<unknown>> {
  const location = source.kind === 'path' ? { kind: 'file' as const, path: source.path } : parseArtifactUri(source.uri);
  if (location.kind === 'file') {
    const outside = await outsideRoots(location.path, sources.localRoots);
    if (outside) return refuse(outside);
    const info = await stat(location.path).catch(() => undefined);
    if (!info?.isFile()) return refuse("no such file on the worker's machine");
    return createReadStream(location.path);
  }
  try {
    const object = await sources
      .s3Client(sources.region)
      .send(new GetObjectCommand({ Bucket: location.bucket, Key: location.prefix }));
    return object.Body as Readable;
  } catch (err) {
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    if (status === 404) return refuse('no such object');
    if (status === 403)
      throw authFailedFor(`s3://${location.bucket}/${location.prefix}`, 'this worker may not read it (s3:GetObject)');
    throw err;
  }
}

async function checkModel(model: ModelSource, sources: CheckSources): Promise<CheckedModel> {
  switch (model.kind) {
    case 'hub':
      return { kind: 'hub', source: `${model.id}${model.revision ? `@${model.revision}` : ''}` };
    case 'asset':
      return { kind: 'asset', source: `preset asset ${model.folder}` };
    case 'uri': {
      const files = await sources.openStore(model.uri).list();
      if (files.length === 0) throw new DataRefused({ field: 'model', file: model.uri, reason: 'holds no files' });
      return { kind: 'uri', source: model.uri, files: files.length };
    }
    case 'path': {
      const outside = await outsideRoots(model.path, sources.localRoots);
      if (outside) throw new DataRefused({ field: 'model', file: model.path, reason: outside });
      return { kind: 'path', source: model.path, ...(await folderHash(model.path)) };
    }
  }
}

/** sha256 over each file's relative path and content, in path order: the folder's content address. */
export async function folderHash(root: string): Promise<{ sha256: string; files: number }> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory())
    throw new DataRefused({ field: 'model', file: root, reason: "no such folder on the worker's machine" });
  const files = (await listFiles(root)).sort();
  if (files.length === 0) throw new DataRefused({ field: 'model', file: root, reason: 'is empty' });
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(join(root, file)));
  }
  return { sha256: hash.digest('hex'), files: files.length };
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(root, path)));
    else if (entry.isFile()) found.push(relative(root, path));
  }
  return found;
}
