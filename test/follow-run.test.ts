// The one follower behind `watch` and `start --follow`, in process against the dev server: it stays with a run
// that continues as new (workflow id, no pinned run id) and returns the last execution's result.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { followRun } from '../src/client/commands/follow';
import type { WatchEnd, WatchRenderer, WatchUpdate } from '../src/client/render/update';
import { DEFAULT_NAMESPACE } from '../src/common/names';
import { advanceSignal, continuingRun, STEPS_PER_GENERATION } from './helpers/continuing-workflow';
import { quietRuntime, TEMPORAL_ADDRESS, testClient, uniqueId } from './helpers/temporal';

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

describe('followRun', { timeout: 120_000 }, () => {
  it('follows a run through two continue-as-new hops and returns the last execution result', async () => {
    quietRuntime();
    const taskQueue = uniqueId('follow-queue');
    const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
    const { client, close } = await testClient();
    try {
      const worker = await Worker.create({
        connection,
        namespace: DEFAULT_NAMESPACE,
        taskQueue,
        workflowBundle: await bundleWorkflowCode({
          workflowsPath: require.resolve('./helpers/continuing-workflow'),
          logger: new DefaultLogger('ERROR'),
        }),
        shutdownGraceTime: '1 second',
      });
      await worker.runUntil(async () => {
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
      });
    } finally {
      await close();
      await connection.close();
    }
  });
});
