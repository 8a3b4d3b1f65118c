// The caps (training.timeoutMinutes and budgetUsd) hold for the run as a whole: across the runs of a
// continue-as-new chain and across a recovery, the ranks are told to finish at the same instant the first
// window was given. Fake activities on the dev server: each distributedTrain call is one short follow window.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TrainingHandOver, TrainInput, TrainResult } from '../src/activities/types';
import { FailureType } from '../src/common/errors';
import { WORKFLOW_TYPE } from '../src/common/names';
import { emptyProgress } from '../src/recipes/progress';
import { FAKE_TRAIN_RESULT, fakeActivities, pricedNodes } from './helpers/fake-activities';
import { chainOf } from './helpers/run-chain';
import { testClient, uniqueId, withWorker } from './helpers/temporal';

const spec = { name: 'caps-test', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 10 } };
/** Every window ends with a full history: each window is followed by a continue-as-new. */
const HAND_OVER_EVERY_WINDOW = { eventBudget: 1, followWindowSeconds: 60 };
const WINDOW_MS = 3_000;
/** A window's finish-by instant, and which run of the chain (or which job) was given it. */
interface Window {
  finishBy: number;
  runId: string;
  jobId: string;
}

/**
 * A job that runs in WINDOW_MS windows until the instant it is told to finish by, then finishes early; or,
 * completes normally after `windowsToFinish` windows (a cap that never comes fails the test instead of hanging it;
 * the deadline's own end is tested in workflow-logic).
 */
function windowedJob(windows: Window[], { loseOnce, windowsToFinish = 20 }: { loseOnce?: string; windowsToFinish?: number } = {}) {
  return async (input: TrainInput): Promise<TrainResult | TrainingHandOver> => {
    const finishBy = Date.parse(input.finishBy ?? '');
    const runId = Context.current().info.workflowExecution?.runId ?? '';
    windows.push({ finishBy, runId, jobId: input.jobId });
    if (loseOnce && windows.length === 2) {
      throw ApplicationFailure.create({
        type: FailureType.NodeLost,
        nonRetryable: true,
        message: `${loseOnce} lost`,
        details: [{ nodes: [loseOnce], reason: 'gone' }],
      });
    }
    const windowEnd = Math.min(Date.now() + WINDOW_MS, finishBy);
    while (Date.now() < windowEnd) {
      Context.current().heartbeat();
      await sleep(200);
    }
    if (Date.now() >= finishBy) return { ...FAKE_TRAIN_RESULT, globalStep: 7, finishedEarly: true };
    if (windows.length >= windowsToFinish) return { ...FAKE_TRAIN_RESULT, globalStep: 10 };
    return { stillRunning: true, progress: { ...emptyProgress(input.jobId), step: windows.length, maxSteps: 10 } };
  };
}


async function runChain(
  activities: object,
  args: Record<string, unknown>,
  prefix: string,
): Promise<{ failure: ApplicationFailure | undefined; runs: number }> {
  const { client, close } = await testClient();
  try {
    let failure: ApplicationFailure | undefined;
    const workflowId = uniqueId(prefix);
    const firstRunId = await withWorker(activities, async ({ client: c, taskQueue }) => {
      const handle = await c.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [args] });
      await handle.result().catch((err: unknown) => (failure = rootCause(err) as ApplicationFailure));
      return handle.firstExecutionRunId;
    });
    return { failure, runs: (await chainOf(client, workflowId, firstRunId)).length };
  } finally {
    await close();
  }
}

function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof Error && current.cause) current = current.cause;
  return current;
}

function assertOneFinishLine(windows: Window[], toleranceMs: number): void {
  const [first] = windows;
  assert.ok(first && Number.isFinite(first.finishBy), 'the first window was given a finish-by instant');
  for (const w of windows)
    assert.ok(
      Math.abs(w.finishBy - first.finishBy) <= toleranceMs,
      `window of run ${w.runId} (job ${w.jobId}) was told to finish ${w.finishBy - first.finishBy} ms after the first window's instant`,
    );
}

describe('the caps hold for the whole run', () => {
  it('training.timeoutMinutes across a continue-as-new chain: one deadline, set when training began', { timeout: 3 * 60_000 }, async () => {
    const windows: Window[] = [];
    const { activities } = fakeActivities({ distributedTrain: windowedJob(windows, { windowsToFinish: 5 }) });
    const started = Date.now();
    const oneMinute = { ...spec, training: { ...spec.training, timeoutMinutes: 1 } };
    const { failure, runs } = await runChain(activities, { spec: oneMinute, history: HAND_OVER_EVERY_WINDOW }, 'caps-chain-time');
    assert.equal(failure, undefined, String(failure));
    assert.ok(runs >= 4, `the run continued as new after every window (${runs} runs)`);
    assert.ok(new Set(windows.map((w) => w.runId)).size >= 4, 'windows were followed by several runs of the chain');
    // A run that recomputed the deadline at its start would tell the ranks to finish a few seconds later each time.
    assertOneFinishLine(windows, 0);
    const deadline = (windows[0]?.finishBy ?? 0) - started;
    assert.ok(deadline > 55_000 && deadline < 65_000, `the deadline is a minute into training (${deadline} ms)`);
  });

  it('budgetUsd across a continue-as-new chain: the spend carried to every run reaches the budget once', { timeout: 4 * 60_000 }, async () => {
    const windows: Window[] = [];
    const { activities } = fakeActivities({ ...pricedNodes(55), distributedTrain: windowedJob(windows) });
    // 3 nodes at $360/h ($0.10/s each) launched 55 s ago: $18 until a minute after launch, then $0.30/s: $24 is 25 s in.
    const capped = { ...spec, budgetUsd: 24, local: { pricePerHourUsd: 360 } };
    const started = Date.now();
    const { failure, runs } = await runChain(activities, { spec: capped, history: HAND_OVER_EVERY_WINDOW }, 'caps-chain-spend');
    assert.equal(failure?.type, FailureType.BudgetExceeded, String(failure));
    assert.match(failure?.message ?? '', /budgetUsd \(\$24\.00; spent \$2[4-9]\.\d\d\)/);
    assert.ok(runs >= 4, `the run continued as new several times before the budget (${runs} runs)`);
    // A run that forgot the carried nodes would see no spend and be told to finish at the far training deadline.
    assertOneFinishLine(windows, 1_000);
    const crossing = (windows[0]?.finishBy ?? 0) - started;
    assert.ok(crossing > 15_000 && crossing < 35_000, `told to finish when the spend reaches $24 (${crossing} ms)`);
  });

  it('training.timeoutMinutes across a recovery: the restarted job keeps the deadline', { timeout: 3 * 60_000 }, async () => {
    const windows: Window[] = [];
    const { activities } = fakeActivities({ distributedTrain: windowedJob(windows, { loseOnce: 'worker-1', windowsToFinish: 4 }) });
    const oneMinute = { ...spec, training: { ...spec.training, timeoutMinutes: 1 } };
    const { failure } = await runChain(activities, { spec: oneMinute }, 'caps-recovery-time');
    assert.equal(failure, undefined, String(failure));
    assert.deepEqual([...new Set(windows.map((w) => w.jobId))], ['train-0', 'train-1'], 'the job was restarted after the loss');
    assertOneFinishLine(windows, 0);
  });

  it('budgetUsd across a recovery: the lost node stays billed, the replacement is billed from its launch', { timeout: 3 * 60_000 }, async () => {
    const windows: Window[] = [];
    const { activities } = fakeActivities({ ...pricedNodes(55), distributedTrain: windowedJob(windows, { loseOnce: 'worker-1' }) });
    // Without a loss $30 is reached 45 s into training. A loss 3 s in: the lost node's $6 stays, the replacement's
    // first minute ($6) is billed at once, the two others bill $0.10/s from 5 s: $30 at about 35 s.
    const capped = { ...spec, budgetUsd: 30, local: { pricePerHourUsd: 360 } };
    const { failure } = await runChain(activities, { spec: capped }, 'caps-recovery-spend');
    assert.equal(failure?.type, FailureType.BudgetExceeded, String(failure));
    assert.deepEqual([...new Set(windows.map((w) => w.jobId))], ['train-0', 'train-1']);
    // A meter that dropped the lost node would reach $30 at about 63 s; one that ignored the replacement, at 45 s.
    const [before, after] = [windows[0]?.finishBy ?? 0, windows.at(-1)?.finishBy ?? 0];
    const moved = after - before;
    assert.ok(moved < -5_000 && moved > -15_000, `after the recovery the finish line moved ${moved} ms (about -10 s expected)`);
  });
});
