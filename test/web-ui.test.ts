// The Web UI shows a run as the README says: a run started with `tuneforge start` (the built CLI, so it has
// the summary and details a user's run has), then headless Debian chromium opens its page on the dev
// server's UI and finds its summary, details, current details (stage, step, loss) and each step's summary.
// Screenshots go to artifacts/ (CI keeps them). The README's picture comes from a real run instead
// (test/helpers/readme-screenshot-main.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { Page } from 'playwright-core';
import type { TrainResult } from '../src/activities/types';
import { DEFAULT_NAMESPACE, workflowUiUrl } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { runStaticMetadata } from '../src/client/run-metadata';
import { validateRunSpec } from '../src/run-spec/validate';
import { progressQuery, trainingProgressSignal, type RunSummary } from '../src/workflows/definitions';
import { browserSkipReason, fullPageScreenshot, openBrowser, UI_BASE, type BrowserSession } from './helpers/browser';
import { fakeActivities } from './helpers/fake-activities';
import { TEMPORAL_ADDRESS, uniqueId, withWorker } from './helpers/temporal';

/** Screenshots for CI to keep (artifacts/ is gitignored). */
const artifact = (name: string): string => join(packageRoot(), 'artifacts', name);

const spec = { name: 'watch-demo', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 40 } };
const progress = { stage: 'train', step: 24, maxSteps: 40, loss: 1.8731, lastCheckpoint: 'tuneforge/output/checkpoint-20' };

const MAIN = resolve(__dirname, '../src/client/main.js');

/** `tuneforge start <spec> --id <id>` as a user runs it, against the test's worker queue. */
async function startWithCli(taskQueue: string, workflowId: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tuneforge-web-ui-'));
  try {
    const specPath = join(dir, 'spec.yaml');
    await writeFile(specPath, JSON.stringify(spec)); // JSON is YAML
    const env = { ...process.env, TEMPORAL_ADDRESS, TEMPORAL_UI_URL: UI_BASE, TUNEFORGE_TASK_QUEUE: taskQueue };
    const stdout = await new Promise<string>((done, fail) =>
      execFile(process.execPath, [MAIN, 'start', specPath, '--id', workflowId], { env }, (err, out, errOut) =>
        err ? fail(new Error(`tuneforge start failed: ${errOut}`)) : done(out),
      ),
    );
    assert.match(stdout, new RegExp(`Started run ${workflowId}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sends a trainingProgress report and waits until the workflow has taken it (the UI reads what the workflow holds). */
async function reportProgress(handle: WorkflowHandle, step: number): Promise<void> {
  const update = step === progress.step ? progress : { ...progress, step, loss: 3.2, lastCheckpoint: null };
  await handle.signal(trainingProgressSignal, update);
  for (let i = 0; (await handle.query(progressQuery)).training?.step !== step; i++) {
    assert.ok(i < 100, `the workflow never took the trainingProgress signal for step ${step}`);
    await sleep(100);
  }
}

/** What the timeline and the event history show for each step: activity type and the workflow's summary. */
const STEP_SUMMARIES: Array<[string, string]> = [
  ['provisionMaster', 'provision-master: launch the master'],
  ['installDeps', 'install-deps on master'],
  ['bakeImage', 'bake-image from master'],
  ['launchWorkers', 'launch-workers: 2 from img'],
  ['wireSsh', 'wire-ssh across 3 nodes'],
  ['sanityRun', 'sanity-run on master'],
  ['distributedTrain', 'distributed-train on 3 nodes'],
];

const trained: TrainResult = {
  globalStep: 40,
  worldSize: 3,
  firstLoss: 4.5,
  finalLoss: 1.3,
  evalLoss: null,
  samplesPerSecond: 20,
  stepsPerSecond: 1,
  runtimeSeconds: 10,
  lastCheckpoint: 'tuneforge/output/checkpoint-40',
  resumedStep: 0,
  epochs: 1,
  eval: { exactMatch: 62.5, f1: 71.25, samples: 64 },
};

/** A cell of a user-metadata table (markdown the UI renders into its own iframe), by its row's label. */
async function detail(page: Page, label: string, iframe = 'user-metadata-current-details'): Promise<string> {
  const frame = page.frameLocator(`iframe#${iframe}`);
  const row = frame.locator('tr').filter({ has: frame.locator('td:first-child', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) });
  await row.waitFor();
  return ((await row.locator('td').nth(1).textContent()) ?? '').trim();
}

async function assertPng(path: string): Promise<void> {
  const png = await readFile(path);
  assert.ok(png.length > 1000, `${path} is ${png.length} bytes`);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} is not a PNG`);
}

describe('Web UI (headless chromium)', { skip: browserSkipReason() }, () => {
  it(
    'shows a running fine-tune: its stage and training in the current details, every step summary, a screenshot',
    { timeout: 90_000 },
    async () => {
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let trainingStarted: () => void = () => undefined;
      const inTraining = new Promise<void>((resolve) => (trainingStarted = resolve));
      const { activities } = fakeActivities({
        // Stays in distributed-train, heartbeating like the real step, until the test has looked.
        distributedTrain: async () => {
          const ctx = Context.current();
          const beat = setInterval(() => ctx.heartbeat(), 2000);
          trainingStarted();
          try {
            await released;
          } finally {
            clearInterval(beat);
          }
          return trained;
        },
      });

      await withWorker(activities, async ({ client, taskQueue }) => {
        const workflowId = uniqueId(spec.name);
        await startWithCli(taskQueue, workflowId);
        const handle = client.workflow.getHandle(workflowId);
        let session: BrowserSession | undefined;
        try {
          session = await openBrowser({ width: 1280, height: 800 });
          await inTraining;
          await reportProgress(handle, 8);
          const { page } = session;
          page.setDefaultTimeout(20_000);
          await page.goto(workflowUiUrl(UI_BASE, DEFAULT_NAMESPACE, workflowId));
          await page.getByTestId('workflow-id-heading').filter({ hasText: workflowId }).waitFor();
          assert.match((await page.getByTestId('execution-status').first().innerText()).trim(), /^running$/i);

          // The run's page opens on its timeline: one bar per step, labelled "<activity type> • <summary>".
          for (const [type, summary] of STEP_SUMMARIES) {
            await page
              .locator('li')
              .filter({ hasText: `${type} • ${summary}` })
              .first()
              .waitFor();
          }
          await fullPageScreenshot(page, artifact(`web-ui-${workflowId}-timeline.png`));

          // The event history: each ActivityTaskScheduled event carries the step's summary.
          await page.getByTestId('history-tab').click();
          for (const [type, summary] of STEP_SUMMARIES) {
            const scheduled = page
              .getByTestId('event-summary-row')
              .filter({ hasText: 'Activity Task Scheduled' })
              .filter({ hasText: type })
              .filter({ hasText: summary });
            await scheduled.first().waitFor();
          }

          // Search attributes: the stage column the workflow list shows.
          await page.getByTestId('search-attributes-tab').click();
          await page.getByText('"TuneforgeStage": "distributed-train"').first().waitFor();

          // User metadata: the current details the workflow keeps up to date (setCurrentDetails). A second
          // report, some seconds after the first, gives the table a training rate and so an ETA.
          await reportProgress(handle, progress.step);
          await page.getByTestId('user-metadata-tab').click();
          assert.equal(await detail(page, 'Stage'), 'distributed-train');
          assert.equal(await detail(page, 'Nodes'), 'master: running, worker-1: running, worker-2: running');
          assert.equal(await detail(page, 'Step'), '24 / 40 (train)');
          assert.equal(await detail(page, 'Loss'), '1.8731');
          assert.match(await detail(page, 'ETA'), /^\d+ s$/);
          assert.equal(await detail(page, 'Last checkpoint'), 'tuneforge/output/checkpoint-20');
          // The summary and details the CLI set when it started the run (no "No summary available").
          const validated = validateRunSpec(spec);
          assert.ok(validated.ok);
          const { staticSummary } = runStaticMetadata(validated.spec);
          await page.frameLocator('iframe#user-metadata-summary').getByText(staticSummary).waitFor();
          assert.equal(await detail(page, 'Nodes', 'user-metadata-details'), '3');
          assert.equal(
            await detail(page, 'Recoveries allowed', 'user-metadata-details'),
            String(validated.spec.recovery.maxRecoveries),
          );
          assert.equal(await page.getByText('No summary available').count(), 0, 'the run has a summary');
          assert.equal(await page.getByText('No details available').count(), 0, 'the run has details');

          const shot = artifact(`web-ui-${workflowId}.png`);
          await fullPageScreenshot(page, shot);
          await assertPng(shot);
          await assertPng(artifact(`web-ui-${workflowId}-timeline.png`));
        } catch (err) {
          // What the browser saw when it failed, for the CI artifacts.
          if (session) await fullPageScreenshot(session.page, artifact(`web-ui-${workflowId}-failed.png`)).catch(() => undefined);
          throw err;
        } finally {
          await session?.close();
          release();
        }
        const summary = (await handle.result()) as RunSummary;
        assert.equal(summary.training.globalStep, 40);
        assert.equal((await handle.query(progressQuery)).stage, 'completed');
      });
    },
  );
});
