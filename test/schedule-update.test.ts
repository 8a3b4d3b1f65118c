// `tuneforge schedule update <id> <spec>` through the built CLI on the dev server: the next run starts with the
// new spec, the run going on keeps the input it started with, timing and state stay; a bad spec or an unknown
// schedule changes nothing. Inputs are read from each run's history, where Temporal keeps what it started.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { EXIT } from '../src/client/exit-codes';
import type { ScheduleRow, ScheduleView } from '../src/client/commands/schedule';
import type { FineTuneInput } from '../src/workflows/definitions';
import { jsonError, runCli } from './helpers/cli-json';
import { testClient, uniqueId } from './helpers/temporal';

const folder = mkdtempSync(join(tmpdir(), 'schedule-update-'));

function specFile(name: string, body: string): string {
  const path = join(folder, `${name}.yaml`);
  writeFileSync(path, body);
  return path;
}

const spec = (name: string, steps: number) =>
  `name: ${name}\nprovider: local\nrecipe: tiny-qa\nnodes: 2\ntraining:\n  maxSteps: ${steps}\n`;
const FIRST = specFile('first', spec('sched-first', 6));
const SECOND = specFile('second', spec('sched-second', 9));
const BAD = specFile('bad', spec('sched-bad', 9).replace('nodes: 2', 'nodes: 0'));


const cli = (taskQueue: string, ...args: string[]) => runCli(taskQueue, ['schedule', ...args]);

async function ok<T>(taskQueue: string, ...args: string[]): Promise<T> {
  const result = await cli(taskQueue, ...args, '--json');
  assert.equal(result.status, EXIT.ok, `schedule ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** The input a run was started with, from the first event of its history. */
async function startedInput(client: Client, workflowId: string): Promise<FineTuneInput> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  assert.ok(payload, `${workflowId} has a start input`);
  return defaultPayloadConverter.fromPayload<FineTuneInput>(payload);
}

/** Triggers the schedule and returns the id of the run it started (no worker: it stays running). */
async function triggered(client: Client, queue: string, id: string, known: string[]): Promise<string> {
  await ok(queue, 'trigger', id);
  for (let i = 0; i < 100; i++) {
    const running = (await client.schedule.getHandle(id).describe()).info.runningActions.map((a) => a.workflow.workflowId);
    const fresh = running.find((r) => !known.includes(r));
    if (fresh) return fresh;
    await sleep(200);
  }
  assert.fail(`schedule ${id} started no run`);
}

describe('tuneforge schedule update (built CLI, dev server)', () => {
  it('the next run starts with the new spec; the running one keeps its own; timing and state stay', async () => {
    const queue = uniqueId('sched-idle-queue'); // no worker polls it: a triggered run stays running
    const id = uniqueId('sched-update');
    const { client, close } = await testClient();
    const runs: string[] = [];
    try {
      await ok(queue, 'create', FIRST, '--every', '2h', '--id', id, '--note', 'weekly');
      runs.push(await triggered(client, queue, id, runs));

      const bad = jsonError(await cli(queue, 'update', id, BAD, '--json'));
      assert.deepEqual([bad.code, bad.exitCode], ['SpecInvalid', EXIT.invalidInput]);
      assert.match(bad.error, /nodes:/);
      const unchanged = await ok<ScheduleView>(queue, 'describe', id);
      assert.deepEqual([unchanged.specName, unchanged.specFile], ['sched-first', FIRST]);

      const updated = await ok<Record<string, unknown>>(queue, 'update', id, SECOND);
      assert.deepEqual(updated, { scheduleId: id, specName: 'sched-second', specFile: SECOND });
      const view = await ok<ScheduleView>(queue, 'describe', id);
      assert.deepEqual(
        [view.specName, view.specFile, view.timing, view.paused, view.note, view.taskQueue, view.overlap],
        ['sched-second', SECOND, 'every 2h', false, 'weekly', queue, 'SKIP'],
      );

      let listed: ScheduleRow | undefined;
      for (let i = 0; i < 100 && listed === undefined; i++) {
        listed = (await ok<ScheduleRow[]>(queue, 'list')).find((row) => row.scheduleId === id);
        if (listed === undefined) await sleep(200); // listing is eventually consistent
      }
      assert.equal(listed?.specName, 'sched-second', 'list shows the spec of the next run');

      // The run going on was started with the first spec and still is; nothing restarted it.
      const first = runs[0] ?? '';
      assert.equal((await client.workflow.getHandle(first).describe()).status.name, 'RUNNING');
      assert.deepEqual(
        [(await startedInput(client, first)).spec.name, (await startedInput(client, first)).spec.training.maxSteps],
        ['sched-first', 6],
      );

      await client.workflow.getHandle(first).terminate('test: make room for the next run (overlap SKIP)');
      await sleep(1100); // a scheduled run's id is the schedule id and the time to the second
      runs.push(await triggered(client, queue, id, runs));
      const next = await startedInput(client, runs[1] ?? '');
      assert.deepEqual([next.spec.name, next.spec.training.maxSteps], ['sched-second', 9]);
      assert.ok(runs[1]?.startsWith(`${id}-`), 'runs keep the schedule id prefix');
    } finally {
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
      for (const run of runs)
        await client.workflow
          .getHandle(run)
          .terminate('test cleanup')
          .catch(() => undefined);
      await close();
    }
  });

  it('an unknown schedule exits 5; a missing spec file exits 2 before Temporal is asked', async () => {
    const queue = uniqueId('sched-idle-queue');
    const missing = jsonError(await cli(queue, 'update', uniqueId('no-such-schedule'), SECOND, '--json'));
    assert.deepEqual([missing.code, missing.exitCode], ['ScheduleNotFound', EXIT.notFound]);
    const noFile = await cli(queue, 'update', 'whatever', join(folder, 'none.yaml'));
    assert.equal(noFile.status, EXIT.invalidInput);
    assert.match(noFile.stderr, /cannot read .*none\.yaml/);
  });
});
