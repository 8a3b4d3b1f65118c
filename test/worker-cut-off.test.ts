// The node watch's quorum on a real local run: when the worker loses its path to every node mid-training,
// nothing is replaced and the job it left running is followed again when the path returns; when it loses
// its path to one node while the others answer, that node is replaced. The cut is made in the worker's
// RemoteShell (its only way to the nodes): kept connections to the cut nodes are closed and every new
// one fails as a connect timeout would, while the nodes keep training among themselves.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { createRemoteShell, type RemoteShell } from '../src/remote/remote-shell';
import type { SshTarget } from '../src/remote/ssh-session';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import {
  liveNodeProcesses,
  processesPerNode,
  removeClustersStartingWith,
  sampleNodeProcesses,
  testDeps,
  testProvider,
} from './helpers/local-lab';
import { realActivities, uniqueId, withWorker } from './helpers/temporal';

const SAVE_STEPS = 50;
const MAX_STEPS = 400;
/**
 * The local watch calls a node lost about 6.5 s after its first missed probe (aws: ~50 s); an outage of
 * 30 s is more than four times that, so a watch without the quorum replaces every node in it.
 */
const OUTAGE_MS = 30_000;
const spec = {
  name: 'cut-off',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 3,
  training: { maxSteps: MAX_STEPS, saveSteps: SAVE_STEPS },
  sanity: { maxSteps: 3 },
};

/** The worker's RemoteShell with a switch that cuts its path to the nodes whose host keys are in `cut`. */
function cuttableShell(): RemoteShell & { cut: Set<string> } {
  const real = createRemoteShell();
  const cut = new Set<string>();
  const isCut = (target: SshTarget) => cut.has(target.hostKey);
  const timeout = async (target: SshTarget): Promise<never> => {
    await sleep(1000);
    throw new Error(`connect ETIMEDOUT ${target.host}:${target.port}`);
  };
  return {
    ...real,
    cut,
    run: (target, command, options) => (isCut(target) ? timeout(target) : real.run(target, command, options)),
    check: (target, command, options) => (isCut(target) ? timeout(target) : real.check(target, command, options)),
    upload: (target, path, content, options) => (isCut(target) ? timeout(target) : real.upload(target, path, content, options)),
  };
}

async function cutFor(shell: ReturnType<typeof cuttableShell>, clusterId: string, names: string[]): Promise<void> {
  const nodes = (await testProvider.listNodes({ clusterId, runName: spec.name })).filter((n) => names.includes(n.name));
  assert.equal(nodes.length, names.length, `nodes to cut: ${names.join(', ')}`);
  for (const node of nodes) shell.cut.add(node.hostKey);
  shell.release?.((target) => shell.cut.has(target.hostKey));
  await sleep(OUTAGE_MS);
  shell.cut.clear();
}

async function trainingStep(handle: { query: (q: typeof progressQuery) => Promise<{ training?: { step: number } | null }> }) {
  return (await handle.query(progressQuery)).training?.step ?? 0;
}

describe("the worker's own network outage during distributed-train", () => {
  after(() => removeClustersStartingWith('cut-all-', 'cut-one-'));

  it('cut from every node: nothing is replaced, no step is repeated, the run follows the same job to its end', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('cut-all');
    const shell = cuttableShell();
    const sampler = sampleNodeProcesses(workflowId);
    const summary = (await withWorker(realActivities(testDeps({ remote: shell })), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
      while ((await trainingStep(handle)) < SAVE_STEPS) await sleep(250);
      const stepAtCut = await trainingStep(handle);
      await cutFor(shell, workflowId, ['master', 'worker-1', 'worker-2']);
      assert.deepEqual((await handle.query(progressQuery)).recoveries, [], 'no recovery during the outage');
      let stepAfter = stepAtCut;
      for (let i = 0; i < 240 && stepAfter <= stepAtCut; i++) {
        await sleep(250);
        stepAfter = await trainingStep(handle);
      }
      assert.ok(stepAfter > stepAtCut, `followed again after the outage (step ${stepAtCut} -> ${stepAfter})`);
      return handle.result();
    }).finally(() => sampler.stop())) as RunSummary;
    assert.equal(summary.recoveries, 0);
    assert.equal(summary.training.globalStep, MAX_STEPS);
    assert.equal(summary.training.resumedStep, 0, 'the one training job ran from step 0 to the end: no step repeated');
    assert.deepEqual(processesPerNode(await sampler.stop()), { master: 1, 'worker-1': 1, 'worker-2': 1 }, 'no node started twice');
    assert.equal(await liveNodeProcesses(workflowId), 0);
  });

  it('cut from one node while the others answer: that node is replaced and training resumes', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('cut-one');
    const shell = cuttableShell();
    const sampler = sampleNodeProcesses(workflowId);
    const summary = (await withWorker(realActivities(testDeps({ remote: shell })), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
      while ((await trainingStep(handle)) < SAVE_STEPS) await sleep(250);
      await cutFor(shell, workflowId, ['worker-1']);
      return handle.result();
    }).finally(() => sampler.stop())) as RunSummary;
    assert.equal(summary.recoveries, 1);
    assert.equal(summary.training.globalStep, MAX_STEPS);
    assert.deepEqual(processesPerNode(await sampler.stop()), { master: 1, 'worker-1': 2, 'worker-2': 1 }, 'only the cut node was started again');
    assert.equal(await liveNodeProcesses(workflowId), 0);
  });
});
