// The S3 artifact store. Nodes move bytes themselves through presigned URLs (recipes/common/transfer.py):
// no credentials on the nodes, nothing through the worker's link. Large files go as multipart uploads.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { authFailedFor, preflightFailed, specInvalid } from '../common/errors';
import { REMOTE } from '../recipes/remote-paths';
import { sh } from '../remote/shell-quote';
import { checkedKey, selected, type ArtifactStore, type NodeEndpoint, type StoredObject } from './artifact-store';
import { formatArtifactUri } from './artifact-uri';
import { listNodeFiles, type NodeFile } from './node-files';
import { unreachableStore } from './bucket-check';

/** Presigned URLs live this long: enough for a multi-GB file on a slow link, short enough to be useless later. */
export const PRESIGN_SECONDS = 3600;
/** Files above this go as multipart uploads (a single PUT takes at most 5 GiB). */
export const MULTIPART_THRESHOLD = 512 * 1024 * 1024;
export const PART_SIZE = 256 * 1024 * 1024;
const FIELD = 'artifacts.uri';

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** The run folder's key prefix, without a trailing slash. */
  prefix: string;
  /** The run's region: a bucket elsewhere is refused. */
  region: string;
  /** Defaults MULTIPART_THRESHOLD and PART_SIZE (S3 takes parts of 5 MiB and more). */
  multipartThreshold?: number;
  partSize?: number;
}

interface PlannedUpload {
  file: NodeFile;
  key: string;
  uploadId?: string;
  parts: Array<{ url: string; offset: number; length: number }>;
}

export function createS3Store(options: S3StoreOptions): ArtifactStore {
  const { client, bucket, region } = options;
  const threshold = options.multipartThreshold ?? MULTIPART_THRESHOLD;
  const partSize = options.partSize ?? PART_SIZE;
  const uri = formatArtifactUri({ kind: 's3', bucket, prefix: options.prefix });
  const fullKey = (key: string) => (options.prefix ? `${options.prefix}/${checkedKey(key)}` : checkedKey(key));
  const putJsonCommand = (key: string, value: unknown, condition: { IfMatch?: string; IfNoneMatch?: string } = {}) =>
    new PutObjectCommand({
      Bucket: bucket,
      Key: fullKey(key),
      Body: `${JSON.stringify(value, null, 2)}\n`,
      ContentType: 'application/json',
      ...condition,
    });
  // getSignedUrl's generics do not take a union of commands; each call site passes one kind.
  const presign = (command: PutObjectCommand | UploadPartCommand | GetObjectCommand): Promise<string> =>
    getSignedUrl(client, command as PutObjectCommand, { expiresIn: PRESIGN_SECONDS });

  const plan = async (file: NodeFile, key: string): Promise<PlannedUpload> => {
    const Key = fullKey(key);
    if (file.size <= threshold) {
      return {
        file,
        key,
        parts: [{ url: await presign(new PutObjectCommand({ Bucket: bucket, Key })), offset: 0, length: file.size }],
      };
    }
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
    if (!UploadId) throw new Error(`S3 gave no upload id for ${Key}`);
    const parts: PlannedUpload['parts'] = [];
    for (let offset = 0, PartNumber = 1; offset < file.size; offset += partSize, PartNumber++) {
      const url = await presign(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber }));
      parts.push({ url, offset, length: Math.min(partSize, file.size - offset) });
    }
    return { file, key, uploadId: UploadId, parts };
  };

  const list = async (prefix = ''): Promise<StoredObject[]> => {
    const objects: StoredObject[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: `${options.prefix}/${prefix}`, ContinuationToken }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key) objects.push({ key: o.Key.slice(options.prefix.length + 1), size: o.Size ?? 0 });
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return objects;
  };

  const getVersioned = async (key: string) => {
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
      const value = JSON.parse((await object.Body?.transformToString()) ?? 'null') as unknown;
      if (!object.ETag) throw new Error(`S3 gave no ETag for ${fullKey(key)}`);
      return { value, version: object.ETag };
    } catch (err) {
      if (err instanceof S3ServiceException && err.name === 'NoSuchKey') return undefined;
      throw err;
    }
  };

  const underKey = async (key: string) => {
    const folder = `${checkedKey(key)}/`;
    return (await list(folder)).map((o) => ({ ...o, relative: o.key.slice(folder.length) }));
  };

  return {
    uri,
    async checkWritable() {
      await checkBucket(client, bucket, region, uri);
      const Key = `${options.prefix}/.tuneforge-probe-${process.pid}-${Date.now()}`;
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'probe' }));
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (err) {
        throw storeError(err, uri, 'write a probe object');
      }
    },

    async uploadFolder(node, remoteDir, key, opts) {
      const files = (await listNodeFiles(node, remoteDir)).filter((f) => selected(f.path, opts));
      const uploads: PlannedUpload[] = [];
      try {
        for (const file of files) uploads.push(await plan(file, `${key}/${file.path}`));
        const result = await runTransfer(node, remoteDir, {
          uploads: uploads.map((u) => ({ path: u.file.path, parts: u.parts })),
        });
        for (const u of uploads.filter((x) => x.uploadId)) {
          const etags = result.etags[u.file.path] ?? [];
          await client.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: fullKey(u.key),
              UploadId: u.uploadId,
              MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            }),
          );
          u.uploadId = undefined;
        }
        return { files: files.length, bytes: result.bytes, seconds: result.seconds };
      } finally {
        // Parts of an unfinished multipart upload are billed until aborted.
        for (const u of uploads.filter((x) => x.uploadId))
          await client
            .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: fullKey(u.key), UploadId: u.uploadId }))
            .catch(() => undefined);
      }
    },

    async downloadFolder(node, key, remoteDir, filter) {
      const objects = (await underKey(key)).filter((o) => selected(o.relative, filter));
      const downloads = await Promise.all(
        objects.map(async (o) => ({
          path: o.relative,
          size: o.size,
          url: await presign(new GetObjectCommand({ Bucket: bucket, Key: fullKey(o.key) })),
        })),
      );
      await node.remote.check(node.target, sh`mkdir -p ${remoteDir}`, { label: `create ${remoteDir}` });
      const result = await runTransfer(node, remoteDir, { downloads });
      return { files: objects.length, bytes: result.bytes, seconds: result.seconds };
    },

    async putJson(key, value) {
      await client.send(putJsonCommand(key, value));
    },

    async putText(key, text, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: fullKey(key), Body: text, ContentType: contentType }));
    },

    async getJson(key) {
      return (await getVersioned(key))?.value;
    },

    async getText(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey(key) }));
        return (await object.Body?.transformToString()) ?? '';
      } catch (err) {
        if (err instanceof S3ServiceException && err.name === 'NoSuchKey') return undefined;
        throw err;
      }
    },

    getVersionedJson: getVersioned,

    async putJsonIfUnchanged(key, value, expected) {
      // S3 conditional writes: If-Match the ETag read, or If-None-Match * while the object is absent.
      const condition = expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected };
      try {
        await client.send(putJsonCommand(key, value, condition));
        return true;
      } catch (err) {
        if (lostConditionalWrite(err)) return false;
        throw err;
      }
    },

    list,

    async remove(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: fullKey(k) }));
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }));
      }
    },

    async downloadToLocal(key, dir, onBytes) {
      const started = Date.now();
      let bytes = 0;
      const objects = await underKey(key);
      for (const o of objects) {
        const path = join(dir, o.relative);
        await mkdir(dirname(path), { recursive: true });
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: fullKey(o.key) }));
        const partial = `${path}.tuneforge-partial`;
        const body = object.Body as Readable;
        body.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          onBytes?.(bytes);
        });
        try {
          await pipeline(body, createWriteStream(partial));
          await rename(partial, path);
        } finally {
          await rm(partial, { force: true });
        }
      }
      return { files: objects.length, bytes, seconds: (Date.now() - started) / 1000 };
    },
  };
}

export interface TransferManifest {
  uploads?: Array<{ path: string; parts: PlannedUpload['parts'] }>;
  downloads?: Array<{ path: string; url: string; size: number }>;
}

interface TransferResult {
  etags: Record<string, string[]>;
  bytes: number;
  seconds: number;
}

/** Runs the node-side mover; the manifest (presigned URLs) goes on stdin, never on a command line. */
export async function runTransfer(node: NodeEndpoint, root: string, manifest: TransferManifest): Promise<TransferResult> {
  const result = await node.remote.check(node.target, sh`python3 ${REMOTE.recipe}/common/transfer.py`, {
    label: `transfer files in ${root}`,
    stdin: JSON.stringify({ root, ...manifest }),
  });
  return JSON.parse(result.stdout) as TransferResult;
}

/**
 * 412: the object changed (or appeared) since it was read. 409: another conditional write to the key was in
 * flight. 404 on If-Match: the object was deleted since it was read.
 */
function lostConditionalWrite(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  const status = err.$metadata.httpStatusCode;
  return status === 412 || status === 409 || err.name === 'NoSuchKey';
}

async function checkBucket(client: S3Client, bucket: string, region: string, uri: string): Promise<void> {
  let found: string | undefined;
  try {
    found = (await client.send(new HeadBucketCommand({ Bucket: bucket }))).BucketRegion;
  } catch (err) {
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    const headerRegion = (err as { $response?: { headers?: Record<string, string> } }).$response?.headers?.[
      'x-amz-bucket-region'
    ];
    if (status === 404) throw specInvalid([{ path: FIELD, message: `bucket ${bucket} does not exist` }]);
    if (status === 301 || (headerRegion && headerRegion !== region)) found = headerRegion;
    else {
      // A name that does not resolve or a refused connection: no retry helps, say where and why at once.
      const unreachable = await unreachableStore(client, uri, err);
      if (unreachable) throw preflightFailed([unreachable]);
      throw storeError(err, `s3://${bucket}`, 'read the bucket');
    }
  }
  if (found && found !== region) {
    throw specInvalid([
      { path: FIELD, message: `bucket ${bucket} is in ${found}, but the run is in ${region}: use a bucket in ${region}` },
    ]);
  }
}

function storeError(err: unknown, uri: string, what: string): Error {
  const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
  if (status === 403) return authFailedFor(uri, `this worker may not ${what} (${(err as Error).name}); see docs/iam-policy.json`);
  return err instanceof Error ? err : new Error(String(err));
}
