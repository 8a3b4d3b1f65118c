// The folder store's lock file: a stale lock (its holder died) is taken over, and a holder whose lock was
// taken over as stale does not delete the new holder's lock when it finishes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { STALE_LOCK_MS, withFileLock } from '../src/artifacts/folder-lock';

describe('folder-store lock', () => {
  const dirs: string[] = [];
  const scratch = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'folder-lock-'));
    dirs.push(dir);
    return join(dir, 'current.json.lock');
  };
  after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  const makeStale = async (lock: string) => {
    const old = new Date(Date.now() - STALE_LOCK_MS - 5_000);
    await utimes(lock, old, old);
  };

  it('takes over a lock left by a dead holder', { timeout: 20_000 }, async () => {
    const lock = await scratch();
    await writeFile(lock, '999999 deadbeefdeadbeef\n');
    await makeStale(lock);
    const held = await withFileLock(lock, async () => (await readFile(lock, 'utf8')).trim());
    assert.doesNotMatch(held, /deadbeef/, 'the new holder wrote its own token');
    await assert.rejects(stat(lock), /ENOENT/, 'and released it');
  });

  it('a holder taken over as stale leaves the new holder its lock', { timeout: 20_000 }, async () => {
    const lock = await scratch();
    let newHolderSaw: string | undefined;
    await withFileLock(lock, async () => {
      // This holder stalls past the stale age: another writer takes over and is still inside its body
      // when the first one finishes.
      await makeStale(lock);
      let releaseSecond!: () => void;
      const secondInside = new Promise<void>((inside) => {
        void withFileLock(lock, async () => {
          newHolderSaw = await readFile(lock, 'utf8');
          inside();
          await new Promise<void>((r) => (releaseSecond = r));
        });
      });
      await secondInside;
      // The first holder's body ends now (its finally releases) while the second still holds the lock.
      setTimeout(() => releaseSecond(), 200);
    });
    assert.ok(newHolderSaw, 'the second writer got the lock');
    assert.equal(await readFile(lock, 'utf8'), newHolderSaw, "the first holder's release left the new lock in place");
    await new Promise((r) => setTimeout(r, 400));
    await assert.rejects(stat(lock), /ENOENT/, 'the new holder released it itself');
  });

  it('two writers never hold the lock at once', { timeout: 30_000 }, async () => {
    const lock = await scratch();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withFileLock(lock, async () => {
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 15));
          inside -= 1;
        }),
      ),
    );
    assert.equal(most, 1);
  });
});
