// `tuneforge schedule ...` through the built CLI on the dev server: the verbs' round trip, overlap SKIP, refused
// arguments and specs (nothing created), and a triggered run of the real workflow (fake activities) whose
// Temporal-suffixed workflow id still makes a valid cluster id.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { EXIT } from '../src/client/exit-codes';
import type { ScheduleRow, ScheduleView } from '../src/client/commands/schedule';
import type { RunContext } from '../src/activities/types';
import type { RunSummary } from '../src/workflows/definitions';
import { runCli } from './helpers/cli-json';
import { fakeActivities } from './helpers/fake-activities';
import { testClient, uniqueId, withWorker } from './helpers/temporal';

const SCHEDULED_ID = /^(.+)-(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const folder = mkdtempSync(join(tmpdir(), 'tuneforge-schedule-test-'));

function specFile(name: string, body: string): string {
  const path = join(folder, `${name}.yaml`);
  writeFileSync(path, body);
  return path;
}

const GOOD_SPEC = specFile('good', 'name: sched-test\nprovider: local\nrecipe: tiny-qa\nnodes: 2\ntraining:\n  maxSteps: 6\n');
const BAD_SPEC = specFile('bad', 'name: sched-bad\nprovider: local\nrecipe: tiny-qa\nnodes: -1\ntraining:\n  maxSteps: 6\n');



const cli = (taskQueue: string, ...args: string[]) => runCli(taskQueue, ['schedule', ...args]);

async function ok<T>(taskQueue: string, ...args: string[]): Promise<T> {
  const result = await cli(taskQueue, ...args);
  assert.equal(result.status, EXIT.ok, `schedule ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Polls describe until the check holds (the schedule acts asynchronously). */
async function describeUntil(queue: string, id: string, check: (v: ScheduleView) => boolean): Promise<ScheduleView> {
  let view = await ok<ScheduleView>(queue, 'describe', id, '--json');
  for (let i = 0; i < 100 && !check(view); i++) {
    await sleep(200);
    view = await ok<ScheduleView>(queue, 'describe', id, '--json');
  }
  assert.ok(check(view), `schedule ${id} never reached the expected state: ${JSON.stringify(view)}`);
  return view;
}

/** Best-effort cleanup: the schedule and every run it started. */
async function removeAll(client: Client, id: string): Promise<void> {
  const handle = client.schedule.getHandle(id);
  const started = await handle.describe().then(
    (d) => d.info.recentActions.map((a) => a.action.workflow.workflowId),
    () => [],
  );
  await handle.delete().catch(() => undefined);
  for (const workflowId of started)
    await client.workflow
      .getHandle(workflowId)
      .terminate('test cleanup')
      .catch(() => undefined);
}

describe('tuneforge schedule (built CLI, dev server)', () => {
  it('create, list, describe, pause, unpause, trigger (overlap SKIP) and delete', async () => {
    const queue = uniqueId('sched-idle-queue'); // no worker polls it: a triggered run stays running
    const id = uniqueId('sched-trip');
    const { client, close } = await testClient();
    try {
      const created = await ok<Record<string, unknown>>(queue, 'create', GOOD_SPEC, '--every', '1h', '--id', id, '--json');
      assert.deepEqual(created, { scheduleId: id, specName: 'sched-test', timing: 'every 1h', paused: false });

      const again = await cli(queue, 'create', GOOD_SPEC, '--every', '1h', '--id', id);
      assert.equal(again.status, EXIT.invalidInput);
      assert.match(again.stderr, new RegExp(`${id} already exists.*--id.*schedule delete ${id}`));

      const view = await ok<ScheduleView>(queue, 'describe', id, '--json');
      assert.equal(view.specName, 'sched-test');
      assert.equal(view.specFile, GOOD_SPEC);
      assert.equal(view.timing, 'every 1h');
      assert.equal(view.taskQueue, queue);
      assert.equal(view.overlap, 'SKIP');
      assert.equal(view.catchupWindowMs, 10 * 60_000);
      assert.equal(view.paused, false);
      assert.deepEqual(view.recentRuns, []);
      assert.ok(view.nextRunTimes.length > 0);

      let listed: ScheduleRow | undefined;
      for (let i = 0; i < 100 && listed === undefined; i++) {
        listed = (await ok<ScheduleRow[]>(queue, 'list', '--json')).find((row) => row.scheduleId === id);
        if (listed === undefined) await sleep(200); // listing is eventually consistent
      }
      assert.deepEqual(listed && { specName: listed.specName, timing: listed.timing }, {
        specName: 'sched-test',
        timing: 'every 1h',
      });

      assert.equal((await cli(queue, 'pause', id, '--note', 'maintenance')).status, EXIT.ok);
      const paused = await ok<ScheduleView>(queue, 'describe', id, '--json');
      assert.deepEqual([paused.paused, paused.note], [true, 'maintenance']);
      assert.match((await cli(queue, 'describe', id)).stdout, /every 1h, paused \(maintenance\)/);
      assert.equal((await cli(queue, 'unpause', id)).status, EXIT.ok);
      assert.equal((await ok<ScheduleView>(queue, 'describe', id, '--json')).paused, false);

      assert.equal((await cli(queue, 'trigger', id)).status, EXIT.ok);
      const first = await describeUntil(queue, id, (v) => v.recentRuns.length === 1 && v.runningIds.length === 1);
      const run = first.recentRuns[0];
      assert.match(run?.workflowId ?? '', SCHEDULED_ID);
      assert.ok(run?.workflowId.startsWith(`${id}-`));
      assert.equal(run?.status, 'RUNNING');

      const second = await cli(queue, 'trigger', id);
      assert.match(second.stdout, /still running; with overlap SKIP this trigger starts nothing/);
      const skipped = await describeUntil(queue, id, (v) => v.skippedOverlap === 1);
      assert.equal(skipped.recentRuns.length, 1, 'the running run was not doubled');

      const deleted = await cli(queue, 'delete', id);
      assert.equal(deleted.status, EXIT.ok);
      assert.match(deleted.stdout, new RegExp(`Run ${run?.workflowId} is still running`));
      const gone = await cli(queue, 'describe', id);
      assert.equal(gone.status, EXIT.notFound);
      assert.match(gone.stderr, new RegExp(`no schedule with id ${id}`));
      assert.equal((await cli(queue, 'pause', id)).status, EXIT.notFound);
    } finally {
      await removeAll(client, id);
      await close();
    }
  });

  it('a bad spec creates nothing', async () => {
    const queue = uniqueId('sched-idle-queue');
    const id = uniqueId('sched-bad');
    const result = await cli(queue, 'create', BAD_SPEC, '--every', '1h', '--id', id);
    assert.equal(result.status, EXIT.invalidInput);
    assert.match(result.stderr, /the run spec is invalid:\n\s+- nodes:/);
    assert.equal((await cli(queue, 'describe', id)).status, EXIT.notFound);
    const missing = await cli(queue, 'create', join(folder, 'missing.yaml'), '--every', '1h', '--id', id);
    assert.equal(missing.status, EXIT.invalidInput);
    assert.equal((await cli(queue, 'describe', id)).status, EXIT.notFound);
  });

  it('takes exactly one of --cron and --every, valid durations and ids, and a cron the server accepts', async () => {
    const queue = uniqueId('sched-idle-queue');
    const id = uniqueId('sched-args');
    const refused: Array<[string[], RegExp]> = [
      [['--cron', '0 3 * * *', '--every', '1h'], /either --cron or --every, not both/],
      [[], /give the timing: --cron .* or --every/],
      [['--every', 'soon'], /--every "soon" is not a duration/],
      [['--every', '0s'], /--every must be at least 1s/],
      [['--every', '1h', '--catchup-window', '2s'], /--catchup-window must be at least 10s/],
      [['--cron', '61 * * * *'], /--cron "61 \* \* \* \*": .*Minute/],
      [['--cron', 'not a cron'], /--cron "not a cron": /],
    ];
    for (const [args, message] of refused) {
      const result = await cli(queue, 'create', GOOD_SPEC, '--id', id, ...args);
      assert.equal(result.status, EXIT.invalidInput, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const badId = await cli(queue, 'create', GOOD_SPEC, '--every', '1h', '--id', 'Nightly_Run');
    assert.equal(badId.status, EXIT.invalidInput);
    assert.match(badId.stderr, /schedule id "Nightly_Run" must be/);
    assert.equal((await cli(queue, 'describe', id)).status, EXIT.notFound, 'nothing was created');
  });

  it('a cron schedule, created paused with a note and a catch-up window, runs at the cron times (UTC)', async () => {
    const queue = uniqueId('sched-idle-queue');
    const id = uniqueId('sched-cron');
    const { client, close } = await testClient();
    try {
      await ok(
        queue,
        'create',
        GOOD_SPEC,
        '--cron',
        '30 3 * * *',
        '--id',
        id,
        '--paused',
        '--note',
        'held',
        '--catchup-window',
        '1h',
        '--json',
      );
      const view = await ok<ScheduleView>(queue, 'describe', id, '--json');
      assert.deepEqual([view.timing, view.paused, view.note, view.catchupWindowMs], ['cron 30 3 * * *', true, 'held', 3_600_000]);
      assert.ok(
        view.nextRunTimes.every((t) => t.endsWith('T03:30:00.000Z')),
        view.nextRunTimes.join(' '),
      );
    } finally {
      await removeAll(client, id);
      await close();
    }
  });

  it("a scheduled run's workflow id (Temporal appends the time) makes a valid cluster id; the run completes", async () => {
    const clusterIds: string[] = [];
    const base = fakeActivities().activities;
    const { activities } = fakeActivities({
      provisionMaster: async (ctx: RunContext) => {
        clusterIds.push(ctx.clusterId);
        return base.provisionMaster(ctx);
      },
    });
    const id = uniqueId('sched-fake');
    await withWorker(activities, async ({ client, taskQueue }) => {
      try {
        await ok(taskQueue, 'create', GOOD_SPEC, '--every', '1h', '--id', id, '--json');
        assert.equal((await cli(taskQueue, 'trigger', id)).status, EXIT.ok);
        const view = await describeUntil(taskQueue, id, (v) => v.recentRuns[0]?.status === 'COMPLETED');
        const workflowId = view.recentRuns[0]?.workflowId ?? '';
        const summary = (await client.workflow.getHandle(workflowId).result()) as RunSummary;
        assert.equal(summary.workflowId, workflowId);
        const [, prefix, y, mo, d, h, mi, s] = SCHEDULED_ID.exec(workflowId) ?? [];
        assert.equal(prefix, id);
        assert.deepEqual(clusterIds, [`${id}-${y}${mo}${d}-${h}${mi}${s}`]);
      } finally {
        await removeAll(client, id);
      }
    });
  });
});
