// Whole runs with provider: aws against moto, every SSH step on a real local node standing in for
// each instance: the workflow, the real aws provider and the real activities together.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WORKFLOW_TYPE } from '../src/common/names';
import type { RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, testDeps, testProvider } from './helpers/local-lab';
import { mirroredProvider } from './helpers/mirrored-provider';
import { clusterInstances, clusterLeftovers, createHarness, motoUnavailableReason, startMoto, type MotoHarness, type MotoServer } from './helpers/moto';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

function awsSpec(harness: MotoHarness, name: string) {
  return {
    name,
    provider: 'aws',
    recipe: 'tiny-qa',
    nodes: 3,
    training: { maxSteps: 12, saveSteps: 6 },
    sanity: { maxSteps: 3 },
    // The stand-in nodes run on this machine, which has no AMX.
    aws: { ...harness.settings, requireAmx: false },
  };
}

describe('a whole run with provider: aws on moto', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  let harness: MotoHarness;
  let worker: WorkerProcess | undefined;

  before(async () => {
    moto = await startMoto();
    harness = createHarness(moto);
  });
  after(async () => {
    await worker?.kill();
    await moto.stop();
  });

  it('completes every step and leaves no instance, security group or key pair of the run', async () => {
    const workflowId = uniqueId('aws-e2e');
    const provider = mirroredProvider(harness.provider, testProvider);
    const summary = (await withWorker(realActivities(testDeps({ providerFor: () => provider })), ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: awsSpec(harness, 'aws-e2e') }] }),
    )) as RunSummary;
    assert.equal(summary.provider, 'aws');
    assert.equal(summary.training.globalStep, 12);
    assert.equal(summary.training.worldSize, 3);
    assert.equal(summary.teardown.nodesLeft, 0);
    assert.equal((await clusterInstances(harness.ec2, workflowId)).length, 3, 'one instance per node was launched');
    assert.deepEqual(await clusterLeftovers(harness.ec2, workflowId), { instances: 0, groups: 0, keyPairs: 0 });
    assert.equal(await liveNodeProcesses(workflowId), 0);
  });

  it('a worker killed right after launching a worker instance restarts and ends with exactly N-1 workers launched', async () => {
    const workflowId = uniqueId('aws-crash');
    const folder = mkdtempSync(join(tmpdir(), 'aws-crash-'));
    const settingsFile = join(folder, 'settings.json');
    const crashFlag = join(folder, 'crash-once');
    writeFileSync(settingsFile, JSON.stringify(harness.settings));
    writeFileSync(crashFlag, '');
    const taskQueue = uniqueId('aws-crash-queue');
    const entry = join(__dirname, 'helpers', 'aws-worker-main.js');
    const env = { MOTO_ENDPOINT: moto.endpoint, TEST_MOTO_ACCOUNT: harness.accountId, TEST_AWS_SETTINGS: settingsFile, TEST_CRASH_FLAG: crashFlag };
    const { client, close } = await testClient();
    try {
      worker = await startWorkerProcess(taskQueue, entry, env);
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: awsSpec(harness, 'aws-crash') }] });
      await new Promise<void>((resolve) => worker?.child.once('exit', () => resolve()));
      assert.equal(worker.child.signalCode, 'SIGKILL', 'the worker crashed after RunInstances');
      worker = await startWorkerProcess(taskQueue, entry, env);
      const summary = (await handle.result()) as RunSummary;
      assert.equal(summary.training.globalStep, 12);
      const launched = await clusterInstances(harness.ec2, workflowId);
      const workers = launched.filter((i) => i.Tags?.some((t) => t.Key === 'tuneforge:role' && t.Value === 'worker'));
      assert.equal(workers.length, 2, 'exactly N-1 worker instances were ever launched');
      assert.deepEqual(await clusterLeftovers(harness.ec2, workflowId), { instances: 0, groups: 0, keyPairs: 0 });
    } finally {
      await close();
    }
  });
});

