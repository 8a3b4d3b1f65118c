// A stand-in Hugging Face hub on loopback for tests: model (and dataset) repos made from local folders,
// answering what huggingface_hub's snapshot_download asks (checked against huggingface_hub 2.4.0, the
// version the nodes' requirements resolve to):
//   GET  /api/{models|datasets}/{ns}/{name}[/revision/{rev}]        repo_info: {id, sha, private, siblings}
//   GET  /api/{models|datasets}/{ns}/{name}/tree/{rev}?recursive=…  list_repo_tree: files with size, oid, lfs
//   HEAD/GET [/datasets]/{ns}/{name}/resolve/{rev}/{path}          X-Repo-Commit, ETag, Content-Length
// Large-file-storage files (weights) answer a 302 to a second listener (the "CDN", another origin, so the
// client stops there for metadata, reads X-Linked-Etag / X-Linked-Size, and sends no Authorization to it).
// Errors carry the hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound): huggingface_hub
// turns them into its typed errors. A private repo answers only a request with its bearer token.
// Every request is recorded (method, path, whether an Authorization header came, the file whose bytes
// were sent) so tests count downloads.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export type RepoType = 'model' | 'dataset';

export interface StandInRepo {
  /** `namespace/name`. */
  id: string;
  type?: RepoType;
  /** Every file under it becomes a repo file (paths relative to it). */
  folder: string;
  /** Only requests with `Authorization: Bearer <token>` see it; others get 401 as for a missing repo. */
  token?: string;
  /** Extra names (tags, branches) for the one commit, besides `main` and the commit itself. */
  tags?: string[];
}

export interface HubRequest {
  method: string;
  path: string;
  /** Which listener answered: the hub's API and resolve URLs, or the CDN that serves large files. */
  origin: 'hub' | 'cdn';
  status: number;
  authorized: boolean;
  /** `type:id/path` of the repo file whose bytes this response carried (a GET that sent a body). */
  served?: string;
}

export interface StandInHub {
  /** `http://127.0.0.1:<port>`: what HF_ENDPOINT points at. */
  endpoint: string;
  requests: HubRequest[];
  /** Adds a repo from its folder; returns the commit every revision name of it resolves to. */
  addRepo(repo: StandInRepo): Promise<{ commit: string; files: string[] }>;
  /** How many times each file of a repo had its bytes sent, by path. */
  downloads(id: string, type?: RepoType): Map<string, number>;
  close(): Promise<void>;
}

interface RepoFile {
  path: string;
  bytes: Buffer;
  /** Git blob id: the ETag and tree oid of a regular file. */
  blobId: string;
  sha256: string;
  lfs: boolean;
}

interface Repo {
  spec: StandInRepo;
  type: RepoType;
  commit: string;
  files: Map<string, RepoFile>;
}

/** Files stored with large-file storage on the real hub: served by a redirect to the CDN. */
const LFS_PATTERN = /\.(safetensors|bin|pt|pth|h5|msgpack|onnx|parquet|arrow)$/;

export async function startStandInHub(): Promise<StandInHub> {
  const repos = new Map<string, Repo>();
  const blobs = new Map<string, { repo: Repo; file: RepoFile }>();
  const requests: HubRequest[] = [];
  let cdnOrigin = '';

  const hub = createServer((req, res) => {
    try {
      answerHub(req, res, { repos, cdnOrigin: () => cdnOrigin, record: (r) => requests.push(r) });
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  const cdn = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://cdn').pathname;
    const blob = blobs.get(path);
    const authorized = req.headers.authorization !== undefined;
    if (!blob) {
      requests.push({ method: req.method ?? '', path, origin: 'cdn', status: 404, authorized });
      res.writeHead(404).end();
      return;
    }
    const served = req.method === 'GET' ? `${blob.repo.type}:${blob.repo.spec.id}/${blob.file.path}` : undefined;
    requests.push({ method: req.method ?? '', path, origin: 'cdn', status: 200, authorized, ...(served ? { served } : {}) });
    res.writeHead(200, { 'Content-Length': blob.file.bytes.length, ETag: `"${blob.file.sha256}"` });
    res.end(req.method === 'HEAD' ? undefined : blob.file.bytes);
  });
  const [hubPort, cdnPort] = await Promise.all([listen(hub), listen(cdn)]);
  cdnOrigin = `http://127.0.0.1:${cdnPort}`;

  return {
    endpoint: `http://127.0.0.1:${hubPort}`,
    requests,
    async addRepo(spec) {
      const repo = await loadRepo(spec);
      repos.set(repoKey(repo.type, spec.id), repo);
      for (const file of repo.files.values()) if (file.lfs) blobs.set(blobPath(repo, file), { repo, file });
      return { commit: repo.commit, files: [...repo.files.keys()] };
    },
    downloads(id, type = 'model') {
      const counts = new Map<string, number>();
      const prefix = `${type}:${id}/`;
      for (const r of requests) {
        if (!r.served?.startsWith(prefix)) continue;
        const path = r.served.slice(prefix.length);
        counts.set(path, (counts.get(path) ?? 0) + 1);
      }
      return counts;
    },
    close: async () => {
      await Promise.all(
        [hub, cdn].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 1_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const repoKey = (type: RepoType, id: string) => `${type}:${id}`;
/** Where the CDN serves a large file: per repo, so two repos with the same bytes count apart. */
const blobPath = (repo: Repo, file: RepoFile) => `/blobs/${repo.type}/${repo.spec.id}/${file.sha256}`;

async function loadRepo(spec: StandInRepo): Promise<Repo> {
  const files = new Map<string, RepoFile>();
  for (const path of (await listFiles(spec.folder)).sort()) {
    const bytes = await readFile(join(spec.folder, path));
    const blobId = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    files.set(path, { path, bytes, blobId, sha256, lfs: LFS_PATTERN.test(path) });
  }
  // A commit id that changes with any file's name or content, as a git commit of the tree would.
  const tree = [...files.values()].map((f) => `${f.path}\0${f.blobId}`).join('\n');
  const commit = createHash('sha1').update(`${spec.id}\n${tree}`).digest('hex');
  return { spec, type: spec.type ?? 'model', commit, files };
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(root, full)));
    else if (entry.isFile()) found.push(relative(root, full));
  }
  return found;
}

interface HubState {
  repos: Map<string, Repo>;
  cdnOrigin(): string;
  record(request: HubRequest): void;
}

type Answer =
  | { status: number; headers?: Record<string, string | number>; json?: unknown; file?: RepoFile; repo?: Repo }
  | { status: number; error: string; message: string };

function answerHub(req: IncomingMessage, res: ServerResponse, state: HubState): void {
  const url = new URL(req.url ?? '/', 'http://hub');
  const path = decodeURIComponent(url.pathname);
  const authorization = req.headers.authorization;
  const answer = route(req.method ?? 'GET', url.pathname, authorization, state);
  const served =
    'file' in answer && answer.file && answer.repo && req.method === 'GET' && answer.status === 200
      ? `${answer.repo.type}:${answer.repo.spec.id}/${answer.file.path}`
      : undefined;
  state.record({
    method: req.method ?? '',
    path,
    origin: 'hub',
    status: answer.status,
    authorized: authorization !== undefined,
    ...(served ? { served } : {}),
  });
  if ('error' in answer) {
    const body = JSON.stringify({ error: answer.message });
    res.writeHead(answer.status, {
      'X-Error-Code': answer.error,
      'X-Error-Message': answer.message,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const body =
    answer.json !== undefined ? Buffer.from(JSON.stringify(answer.json)) : answer.status === 200 ? answer.file?.bytes : undefined;
  res.writeHead(answer.status, {
    ...(answer.headers ?? {}),
    ...(answer.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
    'Content-Length': body?.length ?? 0,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const API = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)(?:\/(revision|tree)\/([^/]+))?\/?$/;
const RESOLVE = /^\/(?:(datasets)\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;

function route(method: string, rawPath: string, authorization: string | undefined, state: HubState): Answer {
  const api = API.exec(rawPath);
  if (api && method === 'GET') {
    const [, kind, id, verb, rev] = api;
    const found = findRepo(state, kind === 'datasets' ? 'dataset' : 'model', id ?? '', authorization);
    if ('error' in found) return found;
    const commit = resolveRevision(found, rev === undefined ? 'main' : decodeURIComponent(rev));
    if (typeof commit !== 'string') return commit;
    if (verb === 'tree') return { status: 200, json: treeOf(found) };
    return {
      status: 200,
      json: {
        id: found.spec.id,
        sha: commit,
        private: found.spec.token !== undefined,
        lastModified: '2026-12-06T00:00:00.000Z',
        siblings: [...found.files.keys()].map((rfilename) => ({ rfilename })),
      },
    };
  }
  const resolve = RESOLVE.exec(rawPath);
  if (resolve && (method === 'GET' || method === 'HEAD')) {
    const [, datasets, id, rev, filePath] = resolve;
    const found = findRepo(state, datasets ? 'dataset' : 'model', decodeURIComponent(id ?? ''), authorization);
    if ('error' in found) return found;
    const commit = resolveRevision(found, decodeURIComponent(rev ?? ''));
    if (typeof commit !== 'string') return commit;
    const file = found.files.get(decodeURIComponent(filePath ?? ''));
    if (!file) return { status: 404, error: 'EntryNotFound', message: 'Entry not found' };
    if (file.lfs) {
      return {
        status: 302,
        headers: {
          Location: `${state.cdnOrigin()}${blobPath(found, file)}`,
          'X-Repo-Commit': commit,
          'X-Linked-Etag': `"${file.sha256}"`,
          'X-Linked-Size': file.bytes.length,
          ETag: `"${file.blobId}"`,
        },
      };
    }
    return { status: 200, headers: { 'X-Repo-Commit': commit, ETag: `"${file.blobId}"` }, file, repo: found };
  }
  return { status: 404, error: 'EntryNotFound', message: `no route for ${method} ${rawPath}` };
}

function findRepo(
  state: HubState,
  type: RepoType,
  id: string,
  authorization: string | undefined,
): Repo | (Answer & { error: string }) {
  const repo = state.repos.get(repoKey(type, id));
  const notFound = {
    error: 'RepoNotFound',
    message: 'Repository Not Found. Make sure the repo id is correct and you are authenticated for a private repo.',
  };
  if (!repo) return { status: 404, ...notFound };
  if (repo.spec.token !== undefined && authorization !== `Bearer ${repo.spec.token}`) return { status: 401, ...notFound };
  return repo;
}

function resolveRevision(repo: Repo, revision: string): string | (Answer & { error: string }) {
  if ([repo.commit, 'main', ...(repo.spec.tags ?? [])].includes(revision)) return repo.commit;
  return { status: 404, error: 'RevisionNotFound', message: `Invalid rev id: ${revision}` };
}

function treeOf(repo: Repo): unknown[] {
  return [...repo.files.values()].map((f) => ({
    type: 'file',
    path: f.path,
    size: f.bytes.length,
    oid: f.blobId,
    ...(f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}),
  }));
}
