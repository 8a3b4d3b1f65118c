// A lock file next to a folder store's object, created exclusively (O_EXCL): the one holder re-reads and
// writes the object while every other writer waits. The folder store's compare-and-set rests on it.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';

/** The holder reads and renames one small file: a lock this old was left by a process that died holding it. */
export const STALE_LOCK_MS = 60_000;
/** Waiting longer than this for a live holder is a fault for the caller's retry policy, not a wait. */
export const LOCK_WAIT_MS = 30_000;
const POLL_MS = 20;

export async function withFileLock<T>(lockPath: string, body: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  await acquire(lockPath, token);
  try {
    return await body();
  } finally {
    await release(lockPath, token);
  }
}

/** Removes the lock only while it is still this holder's: after a stale takeover it belongs to another. */
async function release(lockPath: string, token: string): Promise<void> {
  if ((await lockToken(lockPath)) === token) await rm(lockPath, { force: true });
}

async function lockToken(lockPath: string): Promise<string | undefined> {
  try {
    return (await readFile(lockPath, 'utf8')).trim().split(' ')[1];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function acquire(lockPath: string, token: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid} ${token}\n`);
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = await lockAgeMs(lockPath);
    // A lock older than any holder needs: its process died; remove it and compete again.
    if (age !== undefined && age > STALE_LOCK_MS) await takeOver(lockPath, token);
    if (Date.now() > deadline) throw new Error(`${lockPath} stayed locked for ${LOCK_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS + Math.random() * POLL_MS));
  }
}

/**
 * Moves a stale lock aside by rename (atomic: of two waiters only one moves it), then deletes it if it was
 * still stale; a fresh one, taken by a third writer in between, goes back unless yet another holds the path.
 */
async function takeOver(lockPath: string, token: string): Promise<void> {
  const aside = `${lockPath}.stale-${token}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const age = await lockAgeMs(aside);
  if (age !== undefined && age <= STALE_LOCK_MS) {
    const restored = await open(lockPath, 'wx', 0o600).catch(() => undefined);
    if (restored) {
      await restored.writeFile(await readFile(aside));
      await restored.close();
    }
  }
  await rm(aside, { force: true });
}

async function lockAgeMs(lockPath: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
