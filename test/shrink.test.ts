// Shrink and go on, then grow back, on the local provider: with the lab's capacity switch off, a lost worker
// cannot be replaced, so training resumes on the two nodes left from the newest complete checkpoint, with the
// per-rank batch and accumulation that keep the global batch and the step counter going on. When the switch
// is back on, the run launches the missing node, has every rank save and stop, and trains on all three again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runArtifactsUri } from '../src/artifacts/artifact-uri';
import { packageRoot } from '../src/common/package-root';
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
  runStoreOf,
  sampleNodeProcesses,
  storedCheckpoints,
  testDeps,
  testProvider,
  TEST_ARTIFACTS_URI,
  TEST_LAB_ROOT,
} from './helpers/local-lab';
import { qaF1 } from './helpers/scores';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';

const SAVE_STEPS = 40;
const MAX_STEPS = 320;
const spec = {
  name: 'shrink',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 3,
  training: { maxSteps: MAX_STEPS, saveSteps: SAVE_STEPS, perDeviceBatchSize: 8, gradientAccumulationSteps: 1 },
  sanity: { maxSteps: 3 },
  recovery: { capacityWaitMinutes: 2 },
};

interface StartEvent {
  world_size: number;
  resumed_step: number;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
}

/** The batch shape the trainer saved with a checkpoint (its own training_args.bin). */
function savedBatchShape(workflowId: string, step: number): [number, number] {
  const folder = fileURLToPath(runArtifactsUri(TEST_ARTIFACTS_URI, spec.name, workflowId));
  const args = join(folder, 'checkpoints', `checkpoint-${step}`, 'training_args.bin');
  const read = 'import sys, torch; a = torch.load(sys.argv[1], weights_only=False); print(a.per_device_train_batch_size, a.gradient_accumulation_steps)';
  const out = execFileSync(join(packageRoot(), '.tools/recipe-venv/bin/python'), ['-c', read, args], { encoding: 'utf8' });
  const [perDevice = NaN, accumulation = NaN] = out.trim().split(' ').map(Number);
  return [perDevice, accumulation];
}

/** The trainer's own start line of a job: its world size and batch shape as it took them. */
async function trainerStart(clusterId: string, jobId: string): Promise<StartEvent> {
  const master = (await testProvider.listNodes({ clusterId, runName: spec.name })).find((n) => n.name === 'master');
  assert.ok(master, 'the master is up');
  const target = sshTarget(master, await testProvider.sshIdentity());
  const log = await createRemoteShell().check(target, `grep -m1 '"event": *"start"' tuneforge/jobs/${jobId}/log`, {
    label: 'read the start line',
  });
  return JSON.parse(log.stdout.slice(log.stdout.indexOf('{'))) as StartEvent;
}

describe('shrink and go on', () => {
  after(() => removeClustersStartingWith('shrink-'));

  it('a lost worker with no capacity left: training goes on with two nodes and the same global batch, then grows back', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('shrink');
    const sampler = sampleNodeProcesses(workflowId);
    const signals = await testClient();
    const deps = testDeps({
      reportProgress: async (id, update) => signals.client.workflow.getHandle(id).signal('trainingProgress', update),
    });
    let before: StartEvent | undefined;
    let after: StartEvent | undefined;
    let grown: StartEvent | undefined;
    let savedOnTwo: [number, number] | undefined;
    const summary = (await withWorker(realActivities(deps), async ({ client, taskQueue }) => {
      // Short follow windows: a shrunk run looks for its nodes coming back at each one.
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        args: [{ spec, history: { followWindowSeconds: 5 } }],
      });
      let stored: number | undefined;
      for (let i = 0; i < 2400 && stored === undefined; i++) {
        stored = (await storedCheckpoints(spec.name).newest(workflowId))?.step;
        if (stored === undefined) await sleep(250);
      }
      assert.ok(stored, 'a complete checkpoint reached the store');
      before = await trainerStart(workflowId, 'train-0');
      const capacitySwitch = join(TEST_LAB_ROOT, 'clusters', workflowId, 'no-capacity');
      await writeFile(capacitySwitch, 'no capacity for this test\n');
      await killNode(workflowId, 'worker-2');
      for (let i = 0; i < 1800 && after === undefined; i++) {
        const [recovery] = (await handle.query(progressQuery)).recoveries;
        if (recovery?.secondsToResume !== undefined) after = await trainerStart(workflowId, 'train-1');
        else await sleep(100);
      }
      await rm(capacitySwitch);
      for (let i = 0; i < 1800 && grown === undefined; i++) {
        const growth = (await handle.query(progressQuery)).recoveries[1];
        if (growth?.secondsToResume !== undefined) grown = await trainerStart(workflowId, 'train-2');
        else await sleep(100);
      }
      // Read now: after a success teardown keeps only the newest checkpoints in the store.
      if (grown) savedOnTwo = savedBatchShape(workflowId, grown.resumed_step);
      return handle.result();
    }).finally(() => signals.close())) as RunSummary;

    assert.ok(before && after, 'both jobs started');
    assert.deepEqual(
      [before.world_size, before.per_device_train_batch_size, before.gradient_accumulation_steps],
      [3, 8, 1],
      'train-0: 3 ranks x 8',
    );
    assert.deepEqual(
      [after.world_size, after.per_device_train_batch_size, after.gradient_accumulation_steps],
      [2, 6, 2],
      'train-1: 2 ranks x 6 x 2 accumulation = the same 24 examples per step',
    );
    assert.ok(after.resumed_step >= SAVE_STEPS && after.resumed_step % SAVE_STEPS === 0, `resumed at ${after.resumed_step}`);
    const [recovery] = summary.recoveryLog ?? [];
    assert.ok(recovery);
    assert.equal(recovery.path, 'shrink');
    assert.deepEqual(recovery.batch, { perDeviceBatchSize: 6, gradientAccumulationSteps: 2, globalBatch: 24, wantedGlobalBatch: 24, exact: true });
    console.log(`# shrink: worker-2 lost at step ${recovery.lastStep}, resumed on 2 nodes from ${recovery.resumedStep} after ${recovery.secondsToResume} s`);
    assert.equal(summary.training.globalStep, MAX_STEPS, 'the step counter went on to maxSteps');
    assert.ok(grown, 'the run grew back');
    assert.deepEqual([grown.world_size, grown.per_device_train_batch_size, grown.gradient_accumulation_steps], [3, 8, 1], 'train-2: all three nodes, the batch as written');
    assert.ok(grown.resumed_step > after.resumed_step, `train-2 resumed from the checkpoint train-1 saved when told to stop (${grown.resumed_step})`);
    const growth = summary.recoveryLog?.[1];
    assert.equal(growth?.path, 'grow');
    assert.equal(summary.recoveries, 1, 'one loss; growing back is no loss');
    assert.deepEqual(growth?.filledBy, ['worker-2']);
    assert.equal(summary.training.resumedStep, grown.resumed_step, 'the last job resumed where the grow stopped the ranks');
    assert.deepEqual(savedOnTwo, [6, 2], 'the checkpoint saved on two nodes, when told to stop');
    assert.deepEqual(savedBatchShape(workflowId, MAX_STEPS), [8, 1], 'the last checkpoint, saved on three');
    const state = (await runStoreOf(spec.name, workflowId).getJson(`checkpoints/checkpoint-${MAX_STEPS}/trainer_state.json`)) as {
      global_step: number;
      log_history: Array<{ step: number }>;
    };
    assert.equal(state.global_step, MAX_STEPS);
    const steps = state.log_history.map((h) => h.step);
    assert.ok(steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? 0)), `one step counter across the jobs: ${steps.join(',')}`);
    const scores = summary.training.eval;
    assert.ok(scores && 'exactMatch' in scores && scores.samples > 0, 'the model was scored');
    // tiny-qa trained for these steps on 3 nodes scores about 70 F1; an untrained model scores near 0.
    assert.ok((qaF1(scores) ?? 0) > 40, `F1 ${qaF1(scores)}`);
    assert.equal(summary.nodesLaunched, 4, 'three nodes, then worker-2 once more when capacity came back');
    assert.match(summary.artifacts.model, /\/model\/$/);
    assert.deepEqual(
      processesPerNode(await sampler.stop()),
      { master: 1, 'worker-1': 1, 'worker-2': 2 },
      'worker-2 launched once more, when capacity came back',
    );
    assert.equal(await liveNodeProcesses(workflowId), 0);
  });
});
