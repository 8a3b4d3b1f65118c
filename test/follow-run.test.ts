// The one follower behind `watch` and `start --follow`, in process against the dev server: it stays with a run
// that continues as new (workflow id, no pinned run id) and returns the last execution's result, gives up on
// unanswered queries after their deadline, and (as `tuneforge watch`) follows a fineTune chain to its summary.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { followRun, QUERY_TIMEOUT_MS } from '../src/client/commands/follow';
import type { WatchEnd, WatchRenderer, WatchUpdate } from '../src/client/render/update';
import { EXIT } from '../src/client/exit-codes';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPE } from '../src/common/names';
import { progressQuery, type RunProgress, type RunSummary } from '../src/workflows/definitions';
import { fakeActivities } from './helpers/fake-activities';
import { fakeTraining } from './helpers/fake-training';
import { runPiped } from './helpers/pty';
import { chainOf } from './helpers/run-chain';
import { advanceSignal, continuingRun, STEPS_PER_GENERATION } from './helpers/continuing-workflow';
import { quietRuntime, TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';

class RecordingRenderer implements WatchRenderer {
  readonly updates: WatchUpdate[] = [];
  ended: WatchEnd | undefined;

  update(u: WatchUpdate): void {
    this.updates.push(u);
  }

  end(end: WatchEnd): void {
    this.ended = end;
  }

  steps(): number[] {
    return [...new Set(this.updates.flatMap((u) => (u.progress?.training ? [u.progress.training.step] : [])))];
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const start = Date.now(); Date.now() - start < timeoutMs;) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const MAIN = resolve(__dirname, '../src/client/main.js');

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Runs fn while a worker with the continuing workflow polls a fresh queue; the worker is gone when fn's part ends. */
async function withContinuingWorker<T>(
  fn: (env: { client: Client; taskQueue: string }) => Promise<T>,
  client: Client,
): Promise<T> {
  quietRuntime();
  const taskQueue = uniqueId('follow-queue');
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  try {
    bundle ??= bundleWorkflowCode({
      workflowsPath: require.resolve('./helpers/continuing-workflow'),
      logger: new DefaultLogger('ERROR'),
    });
    const worker = await Worker.create({
      connection,
      namespace: DEFAULT_NAMESPACE,
      taskQueue,
      workflowBundle: await bundle,
      shutdownGraceTime: '1 second',
    });
    return await worker.runUntil(fn({ client, taskQueue }));
  } finally {
    await connection.close();
  }
}

describe('followRun', { timeout: 120_000 }, () => {
  it('follows a run through two continue-as-new hops and returns the last execution result', async () => {
    const { client, close } = await testClient();
    try {
      await withContinuingWorker(async ({ taskQueue }) => {
        const first = await client.workflow.start(continuingRun, {
          taskQueue,
          workflowId: uniqueId('follow-can'),
          args: [{ generation: 0, last: 2 }],
        });
        const renderer = new RecordingRenderer();
        const followed = followRun(client, first.workflowId, { intervalMs: 100 }, renderer);
        const latest = client.workflow.getHandle(first.workflowId);
        for (let generation = 0; generation <= 2; generation++) {
          const step = generation * STEPS_PER_GENERATION;
          await until(`step ${step} seen by the follower`, () => renderer.steps().includes(step));
          await latest.signal(advanceSignal);
        }
        const result = (await followed) as unknown as { generation: number };
        assert.equal(result.generation, 2, 'the result is the last execution');
        assert.deepEqual(renderer.steps(), [0, 10, 20]);
        assert.equal(renderer.ended?.status, 'COMPLETED');
        assert.ok(renderer.updates.every((u) => u.status === 'RUNNING' || u === renderer.updates.at(-1)));
        const described = await latest.describe();
        assert.notEqual(described.runId, first.firstExecutionRunId, 'the run continued as new');
      }, client);
    } finally {
      await close();
    }
  });

  it('a run whose worker went away: queries give up after their deadline and the follower ends with the outcome', async () => {
    // Measured on the dev server: a query to such a run waits about 29 s for the server to give up.
    const { client, close } = await testClient();
    try {
      const handle = await withContinuingWorker(async ({ taskQueue }) => {
        const started = await client.workflow.start(continuingRun, {
          taskQueue,
          workflowId: uniqueId('follow-gone'),
          args: [{ generation: 0, last: 0 }],
        });
        await started.query(progressQuery); // answered while the worker is up
        return started;
      }, client);
      const renderer = new RecordingRenderer();
      const startedAt = Date.now();
      const followed = followRun(client, handle.workflowId, { intervalMs: 200 }, renderer).catch((err: unknown) => err);
      await until('an unanswered poll', () => renderer.updates.some((u) => !u.answered), 2 * QUERY_TIMEOUT_MS + 2000);
      const unansweredAfter = Date.now() - startedAt;
      await handle.terminate('test: the worker is gone for good');
      const terminatedAt = Date.now();
      const outcome = await followed;
      assert.ok(outcome instanceof WorkflowFailedError, `the follower ends with the run's failure (${String(outcome)})`);
      assert.equal(renderer.ended?.status, 'TERMINATED');
      assert.equal(renderer.ended?.failure?.type, 'TerminatedFailure');
      const endedIn = Date.now() - terminatedAt;
      assert.ok(unansweredAfter < 2 * QUERY_TIMEOUT_MS + 2000, `first unanswered poll after ${unansweredAfter} ms`);
      assert.ok(endedIn < QUERY_TIMEOUT_MS + 3000, `ended ${endedIn} ms after the run did`);
    } finally {
      await close();
    }
  });

  it('tuneforge watch --json follows a fineTune run through its continue-as-new chain and exits 0 with the summary', async () => {
    const { client, close } = await testClient();
    try {
      const totalSteps = 240;
      // One follow window per call: 40 progress signals, one step each, then back with the job still running.
      const { distributedTrain } = fakeTraining(client, totalSteps, { stepsPerWindow: 40, signalsPerWindow: 40 });
      const { activities } = fakeActivities({ distributedTrain });
      await withWorker(activities, async ({ client: c, taskQueue }) => {
        const spec = { name: 'follow-chain', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: totalSteps } };
        const handle = await c.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: uniqueId('follow-chain'),
          args: [{ spec, history: { eventBudget: 300, followWindowSeconds: 60 } }],
        });
        const watch = runPiped([process.execPath, MAIN, 'watch', handle.workflowId, '--json', '--interval', '150'], {
          env: { ...process.env, TEMPORAL_ADDRESS },
        });
        const code = await watch.exited;
        assert.equal(code, EXIT.ok, watch.stderr());
        const events = watch
          .output()
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as { type: string; status: string; progress?: RunProgress; summary?: RunSummary });
        const runs = await chainOf(client, handle.workflowId, handle.firstExecutionRunId);
        assert.ok(runs.length >= 2, `the run continued as new (${runs.length} runs)`);
        const last = events.at(-1);
        assert.deepEqual([last?.type, last?.status], ['result', 'COMPLETED']);
        assert.equal(last?.summary?.training.globalStep, totalSteps, "the chain's last run's summary");
        const seen = events.flatMap((e) => (e.progress?.training ? [e.progress.training.step] : []));
        assert.ok(
          seen.some((s) => s > 0 && s < totalSteps),
          `progress seen mid-training (${seen.join(',')})`,
        );
        assert.deepEqual(
          seen,
          [...seen].sort((a, b) => a - b),
          'steps only go forward across the hand-overs',
        );
      });
    } finally {
      await close();
    }
  });
});
