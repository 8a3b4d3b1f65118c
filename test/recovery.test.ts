// The product's promise on the local provider: losing a worker node mid-training replaces only that
// node and resumes from the newest complete checkpoint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { countLaunches } from '../src/providers/local/launch-log';
import { scanNodeProcesses } from '../src/providers/local/node-scan';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, testDeps, testProvider, TEST_LAB_ROOT } from './helpers/local-lab';
import { realActivities, uniqueId, withWorker } from './helpers/temporal';

const SAVE_STEPS = 50;
const MAX_STEPS = 400;
const spec = { name: 'recovery', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: MAX_STEPS, saveSteps: SAVE_STEPS }, sanity: { maxSteps: 3 } };

/** Checkpoints the running training job has written so far, read from its log on the master. */
async function checkpointsWritten(clusterId: string): Promise<number> {
  const master = (await testProvider.listNodes({ clusterId, runName: spec.name })).find((n) => n.name === 'master');
  if (!master) return 0;
  const identity = await testProvider.sshIdentity({ clusterId, runName: spec.name });
  const result = await createRemoteShell().run(sshTarget(master, identity), `grep -c '"event":"checkpoint"' tuneforge/jobs/train-0/log`, { label: 'count checkpoints' });
  return Number(result.stdout.trim()) || 0;
}

async function killNode(clusterId: string, name: string): Promise<void> {
  const marker = `/clusters/${clusterId}/nodes/${name}/`;
  const [node] = (await scanNodeProcesses()).filter((p) => p.etcDir.includes(marker));
  assert.ok(node, `no process for ${name}`);
  process.kill(node.pid, 'SIGKILL');
}

describe('node loss during distributed-train', () => {
  it('replaces only the lost worker and resumes from the newest complete checkpoint', async () => {
    const workflowId = uniqueId('recovery');
    const summary = (await withWorker(realActivities(testDeps()), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
      for (let i = 0; i < 900 && (await checkpointsWritten(workflowId).catch(() => 0)) < 1; i++) await sleep(200);
      await killNode(workflowId, 'worker-1');
      const killedAt = Date.now();
      let recovered = false;
      for (let i = 0; i < 300 && !recovered; i++) {
        recovered = (await handle.query(progressQuery)).recoveries.length > 0;
        if (!recovered) await sleep(100);
      }
      assert.ok(recovered, 'the workflow noticed the loss');
      console.log(`# node loss noticed by the workflow ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
      return handle.result();
    })) as RunSummary;
    assert.equal(summary.recoveries, 1);
    assert.equal(summary.training.globalStep, MAX_STEPS);
    assert.ok(summary.training.resumedStep >= SAVE_STEPS && summary.training.resumedStep % SAVE_STEPS === 0, `resumed from a checkpoint (step ${summary.training.resumedStep})`);
    assert.equal(summary.nodesLaunched, 4, 'three nodes and one replacement');
    assert.equal(await countLaunches(workflowId, TEST_LAB_ROOT), 4);
    assert.equal(await liveNodeProcesses(workflowId), 0);
  });
});
