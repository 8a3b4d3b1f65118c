// --json on each command against the dev server (the built CLI as a child process, a worker with fake
// activities): the output parses and says what happened, which the test checks against the server and the disk;
// errors are one JSON line on stderr; a run the worker refuses for its input exits 2, as the CLI's refusal does.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { EXIT } from '../src/client/exit-codes';
import { FailureType } from '../src/common/errors';
import { packageRoot } from '../src/common/package-root';
import { failingWith, fakeActivities, untilCancelled } from './helpers/fake-activities';
import { jsonError, runCli } from './helpers/cli-json';
import { testClient, uniqueId, withWorker } from './helpers/temporal';

const SPEC = join(packageRoot(), 'examples/local-tiny.yaml');
const folder = mkdtempSync(join(tmpdir(), 'cli-json-'));

/** Runs the CLI without blocking this process: the worker under test lives in it and must keep answering. */
const tuneforge = (taskQueue: string, ...args: string[]) => runCli(taskQueue, args);

async function json<T>(taskQueue: string, ...args: string[]): Promise<T> {
  const result = await tuneforge(taskQueue, ...args, '--json');
  assert.equal(result.status, EXIT.ok, `${args.join(' ')}: ${result.stderr}`);
  assert.equal(result.stderr, '', `${args.join(' ')} wrote nothing on stderr`);
  return JSON.parse(result.stdout) as T;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await sleep(200);
  }
  assert.fail(`never: ${what}`);
}

/** A run's artifact folder with a model in it, as deliver-model leaves it. */
function artifactStore(): string {
  const run = join(folder, `store-${Date.now()}`, 'run');
  mkdirSync(join(run, 'model'), { recursive: true });
  writeFileSync(join(run, 'model', 'config.json'), '{"model_type": "fake"}');
  writeFileSync(join(run, 'model', 'model.safetensors'), Buffer.alloc(4096, 7));
  return `file://${run}/`;
}

describe('--json on every command (built CLI, dev server, fake activities)', { timeout: 5 * 60_000 }, () => {
  it('a run the worker refuses for its input (SpecInvalid, DataChanged) exits 2, its type in the JSON error', async () => {
    // sanity-run refuses a spec for real (the trainer rejects an argument); which step refuses is not the CLI's concern.
    for (const type of [FailureType.SpecInvalid, FailureType.DataChanged]) {
      const { activities } = fakeActivities({ sanityRun: failingWith(type) });
      await withWorker(activities, async ({ taskQueue }) => {
        const id = uniqueId('cli-refused');
        const followed = await tuneforge(taskQueue, 'start', SPEC, '--id', id, '--follow', '--json');
        assert.equal(followed.status, EXIT.invalidInput, followed.stderr);
        type Event = { type: string; workflowId: string; url?: string; failure?: { type: string } };
        const events = followed.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Event);
        assert.deepEqual([events[0]?.type, events[0]?.workflowId], ['started', id]);
        assert.match(events[0]?.url ?? '', new RegExp(`^http.*${id}`));
        assert.deepEqual([events.at(-1)?.type, events.at(-1)?.failure?.type], ['failure', type]);
        const error = jsonError({ ...followed, stdout: '' });
        assert.deepEqual([error.code, error.exitCode], [type, EXIT.invalidInput]);
        assert.match(error.error, new RegExp(`the run failed: ${type}: injected ${type}`));
        const watched = await tuneforge(taskQueue, 'watch', id);
        assert.equal(watched.status, EXIT.invalidInput, watched.stderr);
        assert.match(watched.stderr, new RegExp(`^tuneforge: the run failed: ${type}`));
      });
    }
  });

  it('start, status, list, artifacts and pull print JSON that matches the run and the files', async () => {
    const uri = artifactStore();
    const { activities } = fakeActivities({ prepareArtifacts: async () => ({ uri }) });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const id = uniqueId('cli-json');
      const started = await json<{ workflowId: string; url: string }>(taskQueue, 'start', SPEC, '--id', id);
      assert.equal(started.workflowId, id);
      await client.workflow.getHandle(id).result();
      const status = await json<{ workflowId: string; status: string }>(taskQueue, 'status', id);
      assert.deepEqual([status.workflowId, status.status], [id, 'COMPLETED']);
      const stored = await json<{ uri: string; objects: Array<{ key: string; size: number }> }>(taskQueue, 'artifacts', id);
      assert.equal(stored.uri, uri);
      assert.deepEqual(
        stored.objects.map((o) => [o.key, o.size]),
        [
          ['model/config.json', 22],
          ['model/model.safetensors', 4096],
        ],
      );
      const into = join(folder, 'pulled');
      const pulled = await json<{ workflowId: string; into: string; files: number; bytes: number }>(taskQueue, 'pull', id, into);
      assert.deepEqual([pulled.workflowId, pulled.into, pulled.files, pulled.bytes], [id, into, 2, 4096 + 22]);
      assert.deepEqual(readFileSync(join(into, 'model.safetensors')), Buffer.alloc(4096, 7));
      await until(async () => {
        const rows = await json<Array<{ workflowId: string }>>(taskQueue, 'list', '--name', 'tiny-demo', '--limit', '50');
        return rows.some((row) => row.workflowId === id);
      }, 'list shows the run');
      const missing = jsonError(await tuneforge(taskQueue, 'status', uniqueId('no-such-run'), '--json'));
      assert.deepEqual([missing.code, missing.exitCode], ['WorkflowNotFound', EXIT.notFound]);
      const noModel = jsonError(await tuneforge(taskQueue, 'pull', uniqueId('no-such-run'), join(folder, 'none'), '--json'));
      assert.equal(noModel.exitCode, EXIT.notFound);
      assert.ok(!existsSync(join(folder, 'none')));
    });
  });

  it('cancel --json requests cancellation: the run ends cancelled', async () => {
    const { activities } = fakeActivities({ distributedTrain: () => untilCancelled() });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const id = uniqueId('cli-json-cancel');
      await json(taskQueue, 'start', SPEC, '--id', id);
      const handle = client.workflow.getHandle(id);
      const cancelled = await json<{ workflowId: string; cancelRequested: boolean }>(taskQueue, 'cancel', id);
      assert.deepEqual(cancelled, { workflowId: id, cancelRequested: true });
      await assert.rejects(handle.result());
      assert.equal((await handle.describe()).status.name, 'CANCELLED');
      const watched = jsonError(await tuneforge(taskQueue, 'watch', id, '--json').then((r) => ({ ...r, stdout: '' })));
      assert.deepEqual([watched.code, watched.exitCode], ['Cancelled', EXIT.runCancelled]);
    });
  });

  it('schedule pause, unpause, trigger and delete print JSON that matches the schedule', async () => {
    const queue = uniqueId('sched-idle-queue'); // no worker: a triggered run stays running
    const id = uniqueId('sched-json');
    const { client, close } = await testClient();
    try {
      await json(queue, 'schedule', 'create', SPEC, '--every', '1h', '--id', id);
      assert.deepEqual(await json(queue, 'schedule', 'pause', id, '--note', 'held'), { scheduleId: id, paused: true });
      assert.equal((await client.schedule.getHandle(id).describe()).state.paused, true);
      assert.deepEqual(await json(queue, 'schedule', 'unpause', id), { scheduleId: id, paused: false });
      assert.equal((await client.schedule.getHandle(id).describe()).state.paused, false);
      assert.deepEqual(await json(queue, 'schedule', 'trigger', id), { scheduleId: id, triggered: true, runningIds: [] });
      let running: string[] = [];
      await until(async () => {
        running = (await client.schedule.getHandle(id).describe()).info.runningActions.map((a) => a.workflow.workflowId);
        return running.length === 1;
      }, 'the triggered run is running');
      assert.deepEqual(await json(queue, 'schedule', 'trigger', id), { scheduleId: id, triggered: false, runningIds: running });
      assert.deepEqual(await json(queue, 'schedule', 'delete', id), { scheduleId: id, deleted: true, runningIds: running });
      const gone = jsonError(await tuneforge(queue, 'schedule', 'describe', id, '--json'));
      assert.deepEqual([gone.code, gone.exitCode], ['ScheduleNotFound', EXIT.notFound]);
      await terminate(client, running);
    } finally {
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
      await close();
    }
  });
});

async function terminate(client: Client, ids: string[]): Promise<void> {
  for (const id of ids) await client.workflow.getHandle(id).terminate('test cleanup');
}
