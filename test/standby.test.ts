// Warm standby on the local provider: the master is killed mid-training and the standby takes its place at
// once (the newest stored checkpoint restored onto it); no lost node is booted again, a new standby is
// launched in the background, and nothing is left at the end.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import {
  killNode,
  liveNodeProcesses,
  processesPerNode,
  removeClustersStartingWith,
  sampleNodeProcesses,
  storedCheckpoints,
  testDeps,
  testProvider,
} from './helpers/local-lab';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';

const SAVE_STEPS = 40;
const MAX_STEPS = 320;
const spec = {
  name: 'standby',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 2,
  training: { maxSteps: MAX_STEPS, saveSteps: SAVE_STEPS },
  sanity: { maxSteps: 3 },
  recovery: { standbyNodes: 1 },
};

/** The hosts a training job of the run was started on, read on the node that is its master now. */
async function jobHosts(clusterId: string, masterName: string, jobId: string): Promise<string[]> {
  const node = (await testProvider.listNodes({ clusterId, runName: spec.name })).find((n) => n.name === masterName);
  assert.ok(node, `${masterName} is up`);
  const target = sshTarget(node, await testProvider.sshIdentity());
  const result = await createRemoteShell().check(target, `cat tuneforge/jobs/${jobId}/hostfile`, { label: 'read hostfile' });
  return result.stdout.trim().split('\n').map((line) => line.split(/\s+/)[0] ?? '');
}

describe('warm standby', () => {
  after(() => removeClustersStartingWith('standby-'));

  it('a lost master is replaced by the standby at once; a new standby boots in the background', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('standby');
    const sampler = sampleNodeProcesses(workflowId);
    const checkpoints = storedCheckpoints(spec.name);
    let namesWhenResumed: string[] = [];
    let train1Hosts: string[] = [];
    const signals = await testClient();
    const deps = testDeps({
      reportProgress: async (id, update) => signals.client.workflow.getHandle(id).signal('trainingProgress', update),
    });
    const summary = (await withWorker(realActivities(deps), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
      let storedAtKill: number | undefined;
      for (let i = 0; i < 2400 && storedAtKill === undefined; i++) {
        storedAtKill = (await checkpoints.newest(workflowId))?.step;
        if (storedAtKill === undefined) await sleep(250);
      }
      assert.ok(storedAtKill, 'a complete checkpoint reached the store');
      const before = processesPerNode(sampler.seen());
      assert.deepEqual(Object.keys(before), ['master', 'standby-1', 'worker-1'], 'the standby booted with the cluster');
      await killNode(workflowId, 'master');
      for (let i = 0; i < 1800 && namesWhenResumed.length === 0; i++) {
        const [recovery] = (await handle.query(progressQuery)).recoveries;
        if (recovery?.secondsToResume !== undefined) namesWhenResumed = Object.keys(processesPerNode(sampler.seen()));
        else await sleep(100);
      }
      assert.ok(namesWhenResumed.length > 0, 'the resumed job reported a step');
      train1Hosts = await jobHosts(workflowId, 'standby-1', 'train-1');
      return handle.result();
    }).finally(() => Promise.all([sampler.stop(), signals.close()]))) as RunSummary;

    assert.deepEqual(train1Hosts, ['standby-1', 'worker-1'], 'train-1 ran with the standby as its master');
    assert.ok(!namesWhenResumed.includes('worker-2') && !namesWhenResumed.includes('standby-3'), namesWhenResumed.join());
    const processes = processesPerNode(await sampler.stop());
    assert.deepEqual(
      processes,
      { master: 1, 'standby-1': 1, 'standby-2': 1, 'worker-1': 1 },
      'no lost node booted again; the only launch after the loss is the new standby',
    );
    assert.equal(summary.recoveries, 1);
    const [recovery] = summary.recoveryLog ?? [];
    assert.ok(recovery);
    assert.equal(recovery.path, 'standby');
    assert.deepEqual(recovery.lostNodes, ['master']);
    assert.deepEqual(recovery.filledBy, ['standby-1']);
    assert.equal(recovery.launched, 0);
    assert.ok(recovery.secondsToResume !== undefined && recovery.secondsToResume > 0);
    assert.equal(recovery.resumedStep, summary.training.resumedStep);
    assert.ok(summary.training.resumedStep >= SAVE_STEPS && summary.training.resumedStep % SAVE_STEPS === 0);
    assert.equal(recovery.stepsRepeated, (recovery.lastStep ?? 0) - summary.training.resumedStep);
    console.log(
      `# standby: master lost at step ${recovery.lastStep}, resumed from ${recovery.resumedStep} after ${recovery.secondsToResume} s`,
    );
    assert.equal(summary.training.globalStep, MAX_STEPS);
    assert.equal(summary.nodesLaunched, 4, 'master, worker, standby and the standby launched after the loss');
    assert.equal(await liveNodeProcesses(workflowId), 0);
  });
});
