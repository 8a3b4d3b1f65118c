// The folder artifact store (file:// URIs): the worker streams files between the node and a folder it
// can write, as tar over SSH. Writes land in a staging folder renamed into place, so readers never see
// half a folder.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { specInvalid } from '../common/errors';
import { sh, shellJoin } from '../remote/shell-quote';
import { checkedKey, selected, type ArtifactStore, type FileFilter, type StoredObject } from './artifact-store';
import { formatArtifactUri } from './artifact-uri';
import { withFileLock } from './folder-lock';

export function createFolderStore(root: string): ArtifactStore {
  const uri = formatArtifactUri({ kind: 'file', path: root });
  const pathOf = (key: string) => join(root, checkedKey(key));
  /** Written beside and renamed into place: a reader never sees half a file. */
  const putFile = async (key: string, text: string) => {
    const path = pathOf(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.tuneforge-${process.pid}`;
    await writeFile(temp, text);
    await rename(temp, path);
  };
  const staging = (key: string) => join(root, '.staging', `${checkedKey(key).replaceAll('/', '_')}-${process.pid}-${Date.now()}`);

  const list = async (prefix = ''): Promise<StoredObject[]> => {
    const files = await walk(root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as StoredObject[];
      throw err;
    });
    return files.filter((f) => f.key.startsWith(prefix) && !f.key.startsWith('.staging/'));
  };

  return {
    uri,
    async checkWritable() {
      const probe = join(root, `.tuneforge-probe-${process.pid}`);
      try {
        await mkdir(root, { recursive: true, mode: 0o700 });
        await writeFile(probe, 'probe');
        await rm(probe);
      } catch (err) {
        throw specInvalid([
          { path: 'artifacts.uri', message: `${root} is not a folder this worker can write: ${(err as Error).message}` },
        ]);
      }
    },

    async uploadFolder(node, remoteDir, key, options) {
      const started = Date.now();
      const into = staging(key);
      await mkdir(into, { recursive: true, mode: 0o700 });
      try {
        const untar = localTar(['-x', '-C', into]);
        const sink = drainingInto(untar.stdin);
        await Promise.all([
          node.remote
            .check(node.target, `${sh`tar -C ${remoteDir}`} ${excludes(options)} -cf - ${shellJoin(options?.only ?? ['.'])}`, {
              label: `copy ${remoteDir} off ${node.target.name}`,
              stdoutTo: sink,
            })
            .finally(() => sink.end()),
          untar.done,
        ]);
        const final = pathOf(key);
        const files = await walk(into);
        if (options?.only) {
          // Named files join the folder, each renamed into place whole.
          for (const file of files) {
            await mkdir(dirname(join(final, file.key)), { recursive: true, mode: 0o700 });
            await rename(join(into, file.key), join(final, file.key));
          }
        } else {
          // A whole folder replaces what was there in one rename.
          await mkdir(dirname(final), { recursive: true, mode: 0o700 });
          await rm(final, { recursive: true, force: true });
          await rename(into, final);
        }
        return { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), seconds: (Date.now() - started) / 1000 };
      } finally {
        await rm(into, { recursive: true, force: true });
      }
    },

    async downloadFolder(node, key, remoteDir, filter) {
      const started = Date.now();
      const from = pathOf(key);
      const files = (await walk(from)).filter((f) => selected(f.key, filter));
      const tar = localTar([
        '-C',
        from,
        ...(filter?.exclude ?? []).map((p) => `--exclude=./${p}`),
        '-cf',
        '-',
        ...(filter?.only ?? ['.']),
      ]);
      await Promise.all([
        node.remote.check(node.target, sh`mkdir -p ${remoteDir} && tar -C ${remoteDir} -xf -`, {
          label: `copy ${key} to ${node.target.name}`,
          stdin: tar.stdout,
        }),
        tar.done,
      ]);
      return { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0), seconds: (Date.now() - started) / 1000 };
    },

    async putJson(key, value) {
      await putFile(key, `${JSON.stringify(value, null, 2)}\n`);
    },

    async putText(key, text) {
      await putFile(key, text);
    },

    async getJson(key) {
      return (await readVersioned(pathOf(key)))?.value;
    },

    async getText(key) {
      return readFile(pathOf(key), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
    },

    async getVersionedJson(key) {
      return readVersioned(pathOf(key));
    },

    async putJsonIfUnchanged(key, value, expected) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // The lock's name holds `.tuneforge-`: list never shows it.
      return withFileLock(`${path}.tuneforge-lock`, async () => {
        const now = await readVersioned(path);
        if ((now?.version ?? null) !== expected) return false;
        const temp = `${path}.tuneforge-${process.pid}-${randomBytes(6).toString('hex')}`;
        await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
        await rename(temp, path);
        return true;
      });
    },

    list,

    async remove(keys) {
      for (const key of keys) await rm(pathOf(key), { force: true });
    },

    async downloadToLocal(key, dir, onBytes) {
      const started = Date.now();
      const from = pathOf(key);
      await access(from, constants.R_OK);
      const files = await walk(from);
      await mkdir(dir, { recursive: true });
      let bytes = 0;
      for (const f of files) {
        await mkdir(dirname(join(dir, f.key)), { recursive: true });
        await cp(join(from, f.key), join(dir, f.key));
        bytes += f.size;
        onBytes?.(bytes);
      }
      return { files: files.length, bytes, seconds: (Date.now() - started) / 1000 };
    },
  };
}

/** The object and the hash of its bytes (its version); undefined when absent. */
async function readVersioned(path: string): Promise<{ value: unknown; version: string } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return { value: JSON.parse(bytes.toString('utf8')) as unknown, version: createHash('sha256').update(bytes).digest('hex') };
}

function excludes(filter?: FileFilter): string {
  return shellJoin((filter?.exclude ?? []).flatMap((p) => [`--exclude=./${p}`, `--exclude=${p}`]));
}

/** Every file under a folder, keys relative to it. */
async function walk(dir: string, base = dir): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path, base)));
    else if (entry.isFile() && !entry.name.includes('.tuneforge-'))
      out.push({ key: relative(base, path), size: (await stat(path)).size });
  }
  return out;
}

/**
 * Forwards to a child's stdin and swallows what arrives after the child stopped reading: tar -x ends at the
 * archive's end marker, before the record padding, and an SSH channel whose output is not read to the end
 * never closes.
 */
function drainingInto(target: Writable): Writable {
  target.on('error', () => undefined);
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (target.destroyed || !target.writable) return done();
      target.write(chunk, () => done());
    },
    final(done) {
      target.end();
      done();
    },
  });
}

function localTar(args: string[]): { stdin: Writable; stdout: Readable; done: Promise<void> } {
  const child = spawn('tar', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`tar ${args.join(' ')} failed (${code}): ${stderr.trim()}`)),
    );
  });
  // Node resumes (and so discards) a child's unread stdout when the child exits: a small tar is done before the
  // SSH channel opens. Piped at once into a PassThrough, its bytes wait there (with backpressure) instead.
  const stdout = child.stdout.pipe(new PassThrough());
  return { stdin: child.stdin, stdout, done };
}
