// `tuneforge watch` as a person and a script see it: the built CLI in a pseudo-terminal and through pipes,
// against a real fineTune run on the dev server whose activities are fakes the test releases.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ProgressUpdate } from '../src/activities/deps';
import { FailureType } from '../src/common/errors';
import { STEP_NAMES, WORKFLOW_TYPE } from '../src/common/names';
import { EXIT } from '../src/client/exit-codes';
import { progressQuery, trainingProgressSignal } from '../src/workflows/definitions';
import { failingWith, fakeActivities } from './helpers/fake-activities';
import { killAll, runInPty, runPiped, type Spawned } from './helpers/pty';
import { TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';

const MAIN = resolve(__dirname, '../src/client/main.js');
const SPEC = { name: 'watch-test', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 40 } };
const SGR = /\u001b\[[0-9;]*m/;
const ESCAPE = /\u001b/;
const CURSOR_UP = /\u001b\[\d+A/;

function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS, TERM: 'xterm-256color', ...extra };
  if (!('NO_COLOR' in extra)) delete env.NO_COLOR;
  return env;
}

function watchArgv(id: string, ...flags: string[]): string[] {
  return [process.execPath, MAIN, 'watch', id, '--interval', '150', ...flags];
}

/** Activities whose distributedTrain waits until release() is called. */
function gatedRun() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((done) => (release = done));
  const base = fakeActivities().activities;
  const { activities } = fakeActivities({
    distributedTrain: async (input) => {
      await gate;
      return base.distributedTrain(input);
    },
  });
  return { activities, release };
}

async function startRun(client: Client, taskQueue: string, prefix: string): Promise<WorkflowHandle> {
  return client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId(prefix), args: [{ spec: SPEC }] });
}

async function untilStage(handle: WorkflowHandle, stage: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await handle.query(progressQuery)).stage === stage) return;
    await sleep(50);
  }
  assert.fail(`the run never reached ${stage}`);
}

function training(step: number, loss: number): ProgressUpdate {
  return { stage: 'distributed-train', step, maxSteps: 40, loss, lastCheckpoint: null };
}

const TEXT_STEP = (step: number) => new RegExp(`${step}/40`);
const JSON_STEP = (step: number) => new RegExp(`"step":${step},`);

/** Reaches training, reports steps 10 and 20 (each seen by the watcher), then lets the run finish. */
async function driveToCompletion(
  handle: WorkflowHandle,
  watch: Spawned,
  release: () => void,
  seen = TEXT_STEP,
): Promise<number | null> {
  try {
    await untilStage(handle, 'distributed-train');
    await handle.signal(trainingProgressSignal, training(10, 2.5));
    await watch.waitFor(seen(10));
    await handle.signal(trainingProgressSignal, training(20, 1.25));
    await watch.waitFor(seen(20));
  } catch (err) {
    watch.kill(); // never leave a watcher polling a run that will not end
    throw err;
  } finally {
    release();
  }
  return watch.exited;
}

function lines(output: string): string[] {
  return output.split('\n').filter((line) => line.length > 0);
}

const TEST_TIMEOUT = { timeout: 90_000 };

describe('tuneforge watch (built CLI, dev server, fake activities)', () => {
  after(killAll);

  it('in a terminal: redraws coloured bars, shows training and ETA, prints the summary and exits 0', TEST_TIMEOUT, async () => {
    const { activities, release } = gatedRun();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await startRun(client, taskQueue, 'watch-tty');
      const watch = runInPty(watchArgv(handle.workflowId), { env: cliEnv() });
      const code = await driveToCompletion(handle, watch, release);
      const out = watch.output();
      assert.equal(code, EXIT.ok, out);
      assert.match(out, SGR, 'colour codes');
      assert.match(out, CURSOR_UP, 'the block is redrawn in place');
      assert.match(out, /█/);
      assert.match(out, /Training\s+.*20\/40\s+loss 1\.2500\s+ETA \d+:\d\d/);
      assert.match(out, /Nodes\s+master:.*running/);
      assert.match(out, /COMPLETED/);
      for (const step of STEP_NAMES) assert.match(out, new RegExp(step), `step ${step} named`);
    });
  });

  it('in a terminal with NO_COLOR=1: bars and redraws, but no colour codes', TEST_TIMEOUT, async () => {
    const { activities, release } = gatedRun();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await startRun(client, taskQueue, 'watch-nocolor');
      const watch = runInPty(watchArgv(handle.workflowId), { env: cliEnv({ NO_COLOR: '1' }) });
      const code = await driveToCompletion(handle, watch, release);
      const out = watch.output();
      assert.equal(code, EXIT.ok, out);
      assert.doesNotMatch(out, SGR);
      assert.match(out, CURSOR_UP);
      assert.match(out, /█/);
    });
  });

  it('through a pipe: one plain line per change, no escape codes or carriage returns, exit 0', TEST_TIMEOUT, async () => {
    const { activities, release } = gatedRun();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await startRun(client, taskQueue, 'watch-plain');
      const watch = runPiped(watchArgv(handle.workflowId), { env: cliEnv({ CI: 'true', FORCE_COLOR: '1' }) });
      const code = await driveToCompletion(handle, watch, release);
      const out = watch.output();
      assert.equal(code, EXIT.ok, out + watch.stderr());
      assert.doesNotMatch(out, ESCAPE);
      assert.doesNotMatch(out, /\r/);
      const progress = lines(out).filter((line) => line.startsWith('['));
      const withoutTime = progress.map((line) => line.replace(/^\[[0-9:]+\]/, ''));
      for (let i = 1; i < withoutTime.length; i++) assert.notEqual(withoutTime[i], withoutTime[i - 1], 'a line only per change');
      assert.ok(progress.some((line) => /distributed-train 10\/40 loss 2\.5000/.test(line)));
      assert.ok(progress.some((line) => /distributed-train 20\/40 loss 1\.2500 eta \d+:\d\d/.test(line)));
      assert.match(progress.at(-1) ?? '', /COMPLETED/);
      assert.match(out, /Nodes left:\s+0/);
    });
  });

  it('--json: NDJSON progress per change, then the result', TEST_TIMEOUT, async () => {
    const { activities, release } = gatedRun();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await startRun(client, taskQueue, 'watch-json');
      const watch = runPiped(watchArgv(handle.workflowId, '--json'), { env: cliEnv() });
      const code = await driveToCompletion(handle, watch, release, JSON_STEP);
      assert.equal(code, EXIT.ok, watch.stderr());
      const events = lines(watch.output()).map(
        (line) => JSON.parse(line) as { type: string; status: string; [k: string]: unknown },
      );
      assert.ok(events.length >= 3);
      assert.ok(events.slice(0, -1).every((e) => e.type === 'progress'));
      const trained = events.find((e) => e.type === 'progress' && JSON.stringify(e.progress).includes('"step":20'));
      assert.ok(trained, 'a progress event at step 20');
      const last = events.at(-1);
      assert.equal(last?.type, 'result');
      assert.equal(last?.status, 'COMPLETED');
      assert.equal((last?.summary as { steps: unknown[] }).steps.length, STEP_NAMES.length);
    });
  });

  it('a failed run exits 1 and --json ends with its failure type', TEST_TIMEOUT, async () => {
    const { activities } = fakeActivities({ distributedTrain: failingWith(FailureType.TrainingFailed) });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await startRun(client, taskQueue, 'watch-fail');
      const watch = runPiped(watchArgv(handle.workflowId, '--json'), { env: cliEnv() });
      assert.equal(await watch.exited, EXIT.runFailed, watch.stderr());
      const last = JSON.parse(lines(watch.output()).at(-1) ?? '{}') as {
        type: string;
        status: string;
        failure: { type: string };
      };
      assert.deepEqual([last.type, last.status, last.failure.type], ['failure', 'FAILED', FailureType.TrainingFailed]);
      assert.match(watch.stderr(), /the run failed: TrainingFailed/);
    });
  });

  it('a cancelled run exits 4', TEST_TIMEOUT, async () => {
    const { activities, release } = gatedRun();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await startRun(client, taskQueue, 'watch-cancel');
      const watch = runPiped(watchArgv(handle.workflowId), { env: cliEnv() });
      try {
        await untilStage(handle, 'distributed-train');
        await watch.waitFor(/distributed-train/);
        await handle.cancel();
      } catch (err) {
        watch.kill();
        throw err;
      } finally {
        release();
      }
      const code = await watch.exited;
      assert.equal(code, EXIT.runCancelled, watch.output() + watch.stderr());
      assert.match(watch.output(), /CANCELLED/);
    });
  });

  it('keeps going while no worker answers, then exits with the outcome (terminated: 1)', TEST_TIMEOUT, async () => {
    const { client, close } = await testClient();
    try {
      const handle = await startRun(client, uniqueId('no-worker-queue'), 'watch-noworker');
      const watch = runPiped(watchArgv(handle.workflowId, '--json'), { env: cliEnv() });
      try {
        await watch.waitFor(/"answered":false/);
      } finally {
        await handle.terminate('test: nobody will ever run it');
      }
      assert.equal(await watch.exited, EXIT.runFailed, watch.stderr());
      const events = lines(watch.output()).map(
        (line) => JSON.parse(line) as { type: string; status: string; failure?: { type: string } },
      );
      assert.equal(events[0]?.status, 'RUNNING');
      assert.deepEqual([events.at(-1)?.status, events.at(-1)?.failure?.type], ['TERMINATED', 'TerminatedFailure']);
    } finally {
      await close();
    }
  });

  it('an unknown id exits 5', TEST_TIMEOUT, async () => {
    const watch = runPiped(watchArgv(uniqueId('no-such-run')), { env: cliEnv() });
    assert.equal(await watch.exited, EXIT.notFound);
    assert.match(watch.stderr(), /no run with id/);
  });
});
