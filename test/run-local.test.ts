// Whole runs on the dev server with the local provider: real nodes, SSH, MPI and training.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { countLaunches } from '../src/providers/local/launch-log';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, testDeps, TEST_LAB_ROOT } from './helpers/local-lab';
import { realActivities, TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const STEP_ACTIVITIES = ['provisionMaster', 'installDeps', 'bakeImage', 'launchWorkers', 'wireSsh', 'sanityRun', 'distributedTrain', 'teardown'];
const spec = { name: 'e2e', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 30, saveSteps: 10 }, sanity: { maxSteps: 5 } };

interface HistoryEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
}

/** The run's history as `temporal workflow show` prints it. */
function scheduledActivities(workflowId: string): string[] {
  const temporal = join(packageRoot(), '.tools/venv/bin/temporal');
  const json = execFileSync(temporal, ['workflow', 'show', '--address', TEMPORAL_ADDRESS, '-w', workflowId, '--output', 'json'], { encoding: 'utf8' });
  const events = (JSON.parse(json) as { events: HistoryEvent[] }).events;
  return events
    .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
}

describe('a whole run on the local provider', () => {
  it('completes the seven steps and teardown in order, loss goes down, no node is left', async () => {
    const workflowId = uniqueId('e2e');
    const { client, close } = await testClient();
    const deps = testDeps({ reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update) });
    try {
      const summary = (await withWorker(realActivities(deps), ({ client: c, taskQueue }) =>
        c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
      )) as RunSummary;
      assert.deepEqual(scheduledActivities(workflowId), STEP_ACTIVITIES);
      assert.equal(summary.training.globalStep, 30);
      assert.equal(summary.training.worldSize, 3);
      const { firstLoss, finalLoss } = summary.training;
      assert.ok(firstLoss !== null && finalLoss !== null && finalLoss < firstLoss, `loss went down (${firstLoss} -> ${finalLoss})`);
      assert.match(summary.training.lastCheckpoint ?? '', /checkpoint-30$/);
      assert.equal(summary.teardown.nodesLeft, 0);
      assert.equal(await liveNodeProcesses(workflowId), 0);
      assert.equal(await countLaunches(workflowId, TEST_LAB_ROOT), 3);
    } finally {
      await close();
    }
  });

  describe('when the worker process is killed during distributed-train', () => {
    let worker: WorkerProcess | undefined;
    after(async () => worker?.kill());

    it('a restarted worker finishes the run without launching any extra node', async () => {
      const taskQueue = uniqueId('restart-queue');
      const workflowId = uniqueId('restart');
      const { client, close } = await testClient();
      try {
        worker = await startWorkerProcess(taskQueue);
        const long = { ...spec, name: 'restart', training: { maxSteps: 150, saveSteps: 50 } };
        const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: long }] });
        let stage = '';
        for (let i = 0; i < 600 && stage !== 'distributed-train'; i++) {
          stage = (await handle.query(progressQuery)).stage;
          if (stage !== 'distributed-train') await sleep(500);
        }
        assert.equal(stage, 'distributed-train');
        await sleep(2000);
        await worker.kill('SIGKILL');
        assert.equal(await liveNodeProcesses(workflowId), 3, 'nodes outlive the worker');
        worker = await startWorkerProcess(taskQueue);
        const summary = (await handle.result()) as RunSummary;
        assert.equal(summary.training.globalStep, 150);
        assert.equal(summary.training.resumedStep, 0, 'the training job was re-attached, not restarted');
        assert.equal(await countLaunches(workflowId, TEST_LAB_ROOT), 3, 'no node launched twice');
        assert.equal(await liveNodeProcesses(workflowId), 0);
        const scheduled = scheduledActivities(workflowId);
        assert.deepEqual(scheduled, STEP_ACTIVITIES, 'each step scheduled once (retries are attempts, not new steps)');
      } finally {
        await close();
      }
    });
  });
});
