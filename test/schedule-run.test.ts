// A schedule with a short interval on the dev server, real activities on real local nodes: it starts two
// runs, one after the other (overlap SKIP), and the second reuses the baked image: install-deps and bake skip.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { describeSchedule, type ScheduleView } from '../src/client/commands/schedule';
import { EXIT } from '../src/client/exit-codes';
import { recipeFor } from '../src/recipes/recipe';
import { recipeFingerprint } from '../src/recipes/recipe-bundle';
import { parseRunSpec } from '../src/run-spec/load';
import type { RunSummary } from '../src/workflows/definitions';
import { deleteLocalImage, testDeps, testProvider } from './helpers/local-lab';
import { realActivities, TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';

const MAIN = resolve(__dirname, '../src/client/main.js');
const SPEC_YAML = [
  'name: sched-e2e',
  'provider: local',
  'recipe: tiny-qa',
  'nodes: 2',
  'training:',
  '  maxSteps: 6',
  'sanity:',
  '  maxSteps: 3',
  '',
].join('\n');
const INTERVAL = '20s';
/** Two runs of about 25 s (70 s for a first install in a fresh lab), each waiting up to one interval to start. */
const TWO_RUNS_DEADLINE_MS = 240_000;

function createWithCli(taskQueue: string, specPath: string, id: string): Promise<number | null> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, 'schedule', 'create', specPath, '--every', INTERVAL, '--id', id], {
      env: { ...process.env, TEMPORAL_ADDRESS, TUNEFORGE_TASK_QUEUE: taskQueue },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', fail);
    child.once('close', done);
  });
}

async function untilTwoRunsStarted(client: Client, id: string): Promise<ScheduleView> {
  const deadline = Date.now() + TWO_RUNS_DEADLINE_MS;
  let view = await describeSchedule(client, id);
  while (view.recentRuns.length < 2 && Date.now() < deadline) {
    await sleep(1000);
    view = await describeSchedule(client, id);
  }
  assert.ok(view.recentRuns.length >= 2, `the schedule started ${view.recentRuns.length} run(s): ${JSON.stringify(view)}`);
  return view;
}

/** Stops the schedule first, then lets the worker (still running) see every run it started to its end. */
async function stopSchedule(client: Client, id: string): Promise<void> {
  const handle = client.schedule.getHandle(id);
  const running = await handle.describe().then(
    (d) => d.info.runningActions.map((a) => a.workflow.workflowId),
    () => [],
  );
  await handle.delete().catch(() => undefined);
  for (const workflowId of running) {
    const run = client.workflow.getHandle(workflowId);
    await run.cancel().catch(() => undefined); // teardown runs before it ends
    await run.result().catch(() => undefined);
  }
}

const note = (summary: RunSummary, step: string): string | undefined => summary.steps.find((s) => s.name === step)?.note;

describe('a scheduled fine-tune on the local provider', () => {
  it(
    'a schedule with a short interval starts two runs; the second skips install-deps and bake',
    { timeout: 10 * 60_000 },
    async () => {
      const specPath = join(mkdtempSync(join(tmpdir(), 'tuneforge-schedule-run-')), 'spec.yaml');
      writeFileSync(specPath, SPEC_YAML);
      const id = uniqueId('sched-e2e');
      const { client: signals, close } = await testClient();
      const deps = testDeps({
        reportProgress: async (wf, update) => signals.workflow.getHandle(wf).signal('trainingProgress', update),
      });
      try {
        await withWorker(realActivities(deps), async ({ client, taskQueue }) => {
          try {
            // An image from an earlier test would let both runs skip the install: the first must bake.
            const fingerprint = await recipeFingerprint(recipeFor(parseRunSpec(SPEC_YAML)));
            await deleteLocalImage(fingerprint);
            assert.equal(await testProvider.findImage(fingerprint), undefined);
            assert.equal(await createWithCli(taskQueue, specPath, id), EXIT.ok);
            const view = await untilTwoRunsStarted(client, id);
            await client.schedule.getHandle(id).pause('test: two runs are enough');
            const [first, second] = view.recentRuns;
            assert.ok(first && second);
            const runs = await Promise.all(
              [first, second].map((r) => client.workflow.getHandle(r.workflowId).result() as Promise<RunSummary>),
            );
            const [one, two] = runs;
            assert.ok(one && two);

            // Overlap SKIP: the second run started only after the first had ended.
            const [oneInfo, twoInfo] = await Promise.all(
              [one, two].map((r) => client.workflow.getHandle(r.workflowId).describe()),
            );
            assert.ok(oneInfo?.closeTime && twoInfo && twoInfo.startTime >= oneInfo.closeTime, 'the runs did not overlap');

            const image = await testProvider.findImage(fingerprint);
            assert.ok(image, 'an image was baked for the recipe fingerprint');
            assert.equal(one.imageReused, false, 'the first run started from the base image');
            assert.notEqual(note(one, 'install-deps'), 'already installed', 'the first run installed');
            assert.equal(note(one, 'bake-image'), image.imageId, 'the first run baked the image');
            assert.equal(two.imageReused, true);
            assert.equal(note(two, 'provision-master'), 'from the baked image');
            assert.equal(note(two, 'install-deps'), 'already installed');
            assert.equal(note(two, 'bake-image'), image.imageId, 'the second run took the existing image');
            for (const run of runs) {
              assert.ok(run.workflowId.startsWith(`${id}-`));
              assert.equal(run.training.globalStep, 6);
              assert.equal(run.teardown.nodesLeft, 0);
            }
          } finally {
            await stopSchedule(client, id);
          }
        });
      } finally {
        await close();
      }
    },
  );
});
