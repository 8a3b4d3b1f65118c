// The current pointer's compare-and-set on moto's S3 (conditional writes) and on a folder store (lock file
// + rename): writers racing for real, exactly one winning each round, and the loser deciding again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../src/artifacts/artifact-store';
import { createFolderStore } from '../src/artifacts/folder-store';
import { createS3Store } from '../src/artifacts/s3-store';
import { promoteInStore } from '../src/activities/promote-model';
import { CURRENT_POINTER_KEY, parseCurrentPointer } from '../src/common/promotion';
import { motoUnavailableReason, startMoto, type MotoServer } from './helpers/moto';
import { uniqueId } from './helpers/temporal';

const ROUNDS = 25;
const gate = { metric: 'f1' as const, min: 0, beatCurrent: true };
const now = () => new Date().toISOString();

interface Backend {
  name: string;
  /** Two handles on one store, as two workers would have (S3: two clients, two connection pools). */
  open(): Promise<[ArtifactStore, ArtifactStore]>;
  skip?: string;
  /** Environment a child process needs to reach the store. */
  env?: () => NodeJS.ProcessEnv;
}

async function pointerOf(store: ArtifactStore) {
  return parseCurrentPointer(await store.getJson(CURRENT_POINTER_KEY));
}

/** A store whose first pointer read lets `meanwhile` run before returning: another run writes between read and write. */
function interleaved(store: ArtifactStore, meanwhile: () => Promise<void>): ArtifactStore {
  let first = true;
  return {
    ...store,
    async getVersionedJson(key) {
      const read = await store.getVersionedJson(key);
      if (first && key === CURRENT_POINTER_KEY) {
        first = false;
        await meanwhile();
      }
      return read;
    },
  };
}

const GATE_MAIN = join(__dirname, 'helpers', 'pointer-gate-main.js');
const VALUES_PER_PROCESS = 40;

/** Runs the gate in a child process once per value; resolves to its decisions. */
function gateProcess(uri: string, writer: string, values: number[], env: NodeJS.ProcessEnv): Promise<GateLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GATE_MAIN, uri, writer, ...values.map(String)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(
            out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as GateLine),
          )
        : reject(new Error(`${writer} exited ${code}: ${err}`)),
    );
  });
}

interface GateLine {
  workflowId: string;
  value: number;
  promoted: boolean;
  current?: { workflowId: string; value: number | null };
}

function suite(backend: Backend) {
  describe(`current pointer on ${backend.name}`, { skip: backend.skip }, () => {
    it(`two writers racing with the same version: exactly one wins each of ${ROUNDS} rounds`, async () => {
      const [a, b] = await backend.open();
      for (let round = 0; round < ROUNDS; round++) {
        const version = (await a.getVersionedJson(CURRENT_POINTER_KEY))?.version ?? null;
        const [wonA, wonB] = await Promise.all([
          a.putJsonIfUnchanged(CURRENT_POINTER_KEY, { writer: 'a', round }, version),
          b.putJsonIfUnchanged(CURRENT_POINTER_KEY, { writer: 'b', round }, version),
        ]);
        assert.equal(Number(wonA) + Number(wonB), 1, `round ${round}: a ${wonA}, b ${wonB}`);
        assert.deepEqual(await a.getJson(CURRENT_POINTER_KEY), { writer: wonA ? 'a' : 'b', round });
      }
      // A stale version loses without writing.
      assert.equal(await a.putJsonIfUnchanged(CURRENT_POINTER_KEY, { writer: 'late' }, null), false);
      assert.notDeepEqual(await a.getJson(CURRENT_POINTER_KEY), { writer: 'late' });
    });

    it(`two gates racing each of ${ROUNDS} rounds: the better model ends current, the worse one is told why`, async () => {
      const [a, b] = await backend.open();
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which run has the better model, so neither handle always wins.
        const better = round % 2 === 0 ? 'a' : 'b';
        const value = (who: string) => round * 10 + (who === better ? 7 : 3);
        const [ra, rb] = await Promise.all(
          (['a', 'b'] as const).map((who) =>
            promoteInStore(
              who === 'a' ? a : b,
              { workflowId: `${who}-${round}`, gate, value: value(who), modelUri: `file:///m/${who}-${round}/model/` },
              now,
            ),
          ),
        );
        const pointer = await pointerOf(a);
        assert.equal(pointer?.workflowId, `${better}-${round}`, `round ${round}`);
        assert.equal(pointer?.value, round * 10 + 7);
        const [win, lose] = better === 'a' ? [ra, rb] : [rb, ra];
        assert.equal(win?.promoted, true);
        // The worse run either decided after the better one's write, or won first and was overtaken.
        if (lose?.promoted === false) {
          assert.deepEqual(lose.current, { workflowId: `${better}-${round}`, value: round * 10 + 7 });
          assert.match(lose.reason, /does not beat the current model's/);
        }
      }
    });

    it(`two processes racing ${VALUES_PER_PROCESS} gates each: no update is lost, the best model ends current`, async () => {
      const [a] = await backend.open();
      // Interleaved values: a has the odd ones, b the even ones, each rising, so nearly every write races the other's.
      const odd = Array.from({ length: VALUES_PER_PROCESS }, (_, i) => 2 * i + 1);
      const even = odd.map((v) => v + 1);
      const env = backend.env?.() ?? {};
      const [la = [], lb = []] = await Promise.all([gateProcess(a.uri, 'a', odd, env), gateProcess(a.uri, 'b', even, env)]);
      const best = 2 * VALUES_PER_PROCESS;
      // A lost update (a write decided on a stale read) would leave a lower value behind the best one.
      const pointer = await pointerOf(a);
      assert.equal(pointer?.workflowId, `b-${best}`);
      assert.equal(pointer?.value, best);
      // Each write replaced the pointer it read: the promotions form one chain in which no model is replaced
      // twice (two writers winning on the same read would both name it) and each replaced model was promoted.
      const promoted = [...la, ...lb].filter((l) => l.promoted);
      const replaced = promoted.flatMap((l) => (l.current ? [l.current.workflowId] : []));
      assert.equal(new Set(replaced).size, replaced.length, `a model replaced twice: ${replaced.join(' ')}`);
      assert.equal(replaced.length, promoted.length - 1, 'exactly one promotion found no current model');
      const promotedIds = new Set(promoted.map((l) => l.workflowId));
      for (const id of replaced) assert.ok(promotedIds.has(id), `${id} was replaced but never promoted`);
      for (const line of [...la, ...lb]) {
        // Every decision compared against a model that was current when it decided: promoted only above it.
        const seen = line.current?.value ?? -1;
        assert.equal(line.promoted, line.value > seen, JSON.stringify(line));
      }
    });

    it('a lost compare-and-set reads again and decides again: not promoted when the other run is better', async () => {
      const [a, b] = await backend.open();
      await seedPointer(a, 'base', 50);
      const racing = interleaved(a, async () => {
        const r = await promoteInStore(b, { workflowId: 'better', gate, value: 90, modelUri: 'file:///m/better/model/' }, now);
        assert.equal(r.promoted, true);
      });
      const before = await rawPointer(b);
      const decision = await promoteInStore(
        racing,
        { workflowId: 'slower', gate, value: 80, modelUri: 'file:///m/s/model/' },
        now,
      );
      assert.equal(decision.promoted, false);
      assert.deepEqual(decision.current, { workflowId: 'better', value: 90 });
      assert.equal((await pointerOf(b))?.workflowId, 'better');
      assert.notEqual(await rawPointer(b), before, 'the other run did write');
    });

    it('a lost compare-and-set reads again and decides again: promoted when it still beats the new current model', async () => {
      const [a, b] = await backend.open();
      await seedPointer(a, 'base', 50);
      const racing = interleaved(a, async () => {
        await promoteInStore(b, { workflowId: 'other', gate, value: 60, modelUri: 'file:///m/other/model/' }, now);
      });
      const decision = await promoteInStore(
        racing,
        { workflowId: 'best', gate, value: 80, modelUri: 'file:///m/best/model/' },
        now,
      );
      assert.equal(decision.promoted, true);
      assert.deepEqual(decision.current, { workflowId: 'other', value: 60 });
      const pointer = await pointerOf(b);
      assert.equal(pointer?.workflowId, 'best');
      assert.equal(pointer?.model, 'file:///m/best/model/');
    });

    it('the gate run again by the run already current reports promoted and leaves the pointer byte for byte', async () => {
      const [a] = await backend.open();
      const input = { workflowId: 'again', gate, value: 99, modelUri: 'file:///m/again/model/' };
      assert.equal((await promoteInStore(a, input, now)).promoted, true);
      const before = await rawPointer(a);
      const retry = await promoteInStore(a, input, () => 'a later time');
      assert.equal(retry.promoted, true);
      assert.equal(await rawPointer(a), before);
    });

    it('a pointer that is not one is refused, not overwritten', async () => {
      const [a] = await backend.open();
      await a.putJson(CURRENT_POINTER_KEY, { workflowId: 'x', value: 'high' });
      await assert.rejects(
        promoteInStore(a, { workflowId: 'y', gate, value: 10, modelUri: 'file:///m/y/model/' }, now),
        /is not a current pointer/,
      );
      assert.deepEqual(await a.getJson(CURRENT_POINTER_KEY), { workflowId: 'x', value: 'high' });
    });
  });
}

/** Makes `workflowId` the current model with this score, over whatever pointer is there. */
async function seedPointer(store: ArtifactStore, workflowId: string, value: number): Promise<void> {
  const version = (await store.getVersionedJson(CURRENT_POINTER_KEY))?.version ?? null;
  assert.ok(await store.putJsonIfUnchanged(CURRENT_POINTER_KEY, pointerFor(workflowId, value), version));
}

function pointerFor(workflowId: string, value: number) {
  return { workflowId, model: `file:///m/${workflowId}/model/`, metric: 'f1', value, promotedAt: now() };
}

/** The pointer's bytes as stored (S3: the JSON text; both stores write it the same way). */
async function rawPointer(store: ArtifactStore): Promise<string> {
  return JSON.stringify(await store.getJson(CURRENT_POINTER_KEY));
}

const folders: string[] = [];
suite({
  name: 'a folder store',
  async open() {
    const root = await mkdtemp(join(tmpdir(), 'tuneforge-pointer-'));
    folders.push(root);
    return [createFolderStore(root), createFolderStore(root)];
  },
});
after(async () => {
  for (const root of folders) {
    // No lock or temporary file is left behind by any round.
    const left = (await readdir(root)).filter((f) => f.includes('.tuneforge-'));
    assert.deepEqual(left, []);
    await rm(root, { recursive: true, force: true });
  }
});

let moto: MotoServer | undefined;
const bucket = uniqueId('pointer').slice(0, 60);
before(async () => {
  if (motoUnavailableReason()) return;
  moto = await startMoto();
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => moto?.stop());

function s3Client(): S3Client {
  if (!moto) throw new Error('moto is not running');
  return new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
}

suite({
  name: "moto's S3",
  skip: motoUnavailableReason(),
  async open() {
    const prefix = uniqueId('name');
    const store = () => createS3Store({ client: s3Client(), bucket, prefix, region: 'us-east-1' });
    return [store(), store()];
  },
  env: () => ({ AWS_ENDPOINT_URL_S3: moto?.endpoint ?? '', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' }),
});
