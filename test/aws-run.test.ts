// Whole runs with provider: aws against moto, every SSH step on a real local node standing in for
// each instance: the workflow, the real aws provider and the real activities together.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { WORKFLOW_TYPE } from '../src/common/names';
import type { ClusterRef } from '../src/providers/provider';
import { bindRun, type RunProvider } from '../src/providers/run-provider';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import type { RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, removeClustersStartingWith, testDeps, testLabProvider } from './helpers/local-lab';
import { mirroredProvider } from './helpers/mirrored-provider';
import {
  clusterInstances,
  clusterLeftovers,
  createHarness,
  motoUnavailableReason,
  startMoto,
  type MotoHarness,
  type MotoServer,
} from './helpers/moto';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

function awsSpec(harness: MotoHarness, name: string, bucket: string) {
  return {
    artifacts: { uri: `s3://${bucket}/runs`, keepCheckpoints: 1 },
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

  const bucket = uniqueId('aws-run-bucket').slice(0, 60);
  let s3: S3Client;

  before(async () => {
    moto = await startMoto();
    harness = createHarness(moto);
    // Markers that must never reach a node: the nodes move bytes through presigned URLs only.
    process.env.AWS_ACCESS_KEY_ID = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    process.env.AWS_SECRET_ACCESS_KEY = `secret-${randomBytes(12).toString('hex')}`;
    process.env.AWS_ENDPOINT_URL_S3 = moto.endpoint;
    s3 = new S3Client({ region: harness.settings.region, endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    await worker?.kill();
    // A failed run may leave its local mirror nodes: remove them like every other whole-run file does.
    await removeClustersStartingWith('aws-e2e-');
    await moto.stop();
  });

  it('completes every step and leaves no instance, security group or key pair of the run', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('aws-e2e');
    const provider = mirroredProvider(harness.regionProvider, testLabProvider);
    const runView = bindRun(provider, { provider: 'aws', aws: harness.settings });
    const activities = realActivities(testDeps({ providerFor: () => provider }));
    let credentialsOnNodes: string[] | undefined;
    const deliverModel: typeof activities.deliverModel = async (input) => {
      // Training and checkpoint uploads are done, the model upload is next: every node has had its chance to hold credentials.
      const cluster = { clusterId: input.clusterId, runName: input.spec.name };
      // The detector must see a planted key before its silence means anything.
      await nodeShell(runView, cluster, input.master.name, `echo ${process.env.AWS_ACCESS_KEY_ID} > planted-key`);
      assert.deepEqual(await credentialTraces(runView, cluster), [`${input.master.name}: /home/ubuntu/planted-key`]);
      await nodeShell(runView, cluster, input.master.name, 'rm planted-key');
      credentialsOnNodes = await credentialTraces(runView, cluster);
      return activities.deliverModel(input);
    };
    const summary = (await withWorker({ ...activities, deliverModel }, ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: awsSpec(harness, 'aws-e2e', bucket) }] }),
    )) as RunSummary;
    assert.deepEqual(credentialsOnNodes, [], 'no node environment or file holds the AWS access key id or secret');
    assert.equal(summary.provider, 'aws');
    assert.equal(summary.training.globalStep, 12);
    assert.equal(summary.training.worldSize, 3);
    assert.equal(summary.teardown.nodesLeft, 0);
    assert.equal((await clusterInstances(harness.ec2, workflowId)).length, 3, 'one instance per node was launched');
    assert.deepEqual(await clusterLeftovers(harness.ec2, workflowId), { instances: 0, groups: 0, keyPairs: 0 });
    assert.equal(await liveNodeProcesses(workflowId), 0);
    const prefix = `runs/aws-e2e/${workflowId}/`;
    assert.equal(summary.artifacts.model, `s3://${bucket}/${prefix}model/`);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((o) => (o.Key ?? '').slice(prefix.length));
    for (const key of ['model/config.json', 'model/model.safetensors', 'run.json', 'checkpoints/checkpoint-12/_COMPLETE.json'])
      assert.ok(keys.includes(key), `${key} in moto S3 after teardown (have ${keys.join(', ')})`);
    assert.ok(!keys.some((k) => k.startsWith('checkpoints/checkpoint-6/')), 'older checkpoints pruned after success');
    const record = JSON.parse(
      (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}run.json` }))).Body?.transformToString()) ??
        '{}',
    ) as { outcome?: string; packages?: Record<string, string>; lossCurve?: unknown[]; costUsd?: number };
    assert.equal(record.outcome, 'succeeded');
    assert.ok(record.packages?.torch, 'run.json names the package versions');
    assert.ok((record.lossCurve ?? []).length > 0, 'run.json holds the loss curve');
  });

  it(
    'a worker killed right after launching a worker instance restarts and ends with exactly N-1 workers launched',
    { timeout: 10 * 60_000 },
    async () => {
      const workflowId = uniqueId('aws-crash');
      const folder = mkdtempSync(join(tmpdir(), 'aws-crash-'));
      const settingsFile = join(folder, 'settings.json');
      const crashFlag = join(folder, 'crash-once');
      writeFileSync(settingsFile, JSON.stringify(harness.settings));
      writeFileSync(crashFlag, '');
      const taskQueue = uniqueId('aws-crash-queue');
      const entry = join(__dirname, 'helpers', 'aws-worker-main.js');
      const env = {
        MOTO_ENDPOINT: moto.endpoint,
        TEST_MOTO_ACCOUNT: harness.accountId,
        TEST_AWS_SETTINGS: settingsFile,
        TEST_CRASH_FLAG: crashFlag,
      };
      const { client, close } = await testClient();
      try {
        worker = await startWorkerProcess(taskQueue, entry, env);
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          args: [{ spec: awsSpec(harness, 'aws-crash', bucket) }],
        });
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
    },
  );
});

/** Where the worker's AWS credentials show up on the cluster's nodes: any process environment, any file the node user can read. */
async function credentialTraces(provider: RunProvider, cluster: ClusterRef): Promise<string[]> {
  const remote = createRemoteShell();
  const identity = await provider.sshIdentity();
  const markers = [process.env.AWS_ACCESS_KEY_ID ?? 'unset', process.env.AWS_SECRET_ACCESS_KEY ?? 'unset'];
  const found: string[] = [];
  for (const node of await provider.listNodes(cluster)) {
    if (node.state !== 'running') continue;
    const pattern = markers.join('\\|');
    const result = await remote.run(
      sshTarget(node, identity),
      `cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '${pattern}'; grep -rl --exclude-dir=venv '${pattern}' ~ /tmp /var/tmp 2>/dev/null | head -5`,
      { label: 'look for credentials' },
    );
    const [count = '', ...files] = result.stdout.trim().split('\n');
    assert.match(count, /^\d+$/, `the environment scan ran on ${node.name}: ${result.stdout} ${result.stderr}`);
    if (Number(count) > 0) found.push(`${node.name}: ${count} environment(s)`);
    for (const file of files.filter((f) => f)) found.push(`${node.name}: ${file}`);
  }
  return found;
}

async function nodeShell(provider: RunProvider, cluster: ClusterRef, name: string, command: string): Promise<void> {
  const node = (await provider.listNodes(cluster)).find((n) => n.name === name);
  assert.ok(node, `no node ${name}`);
  await createRemoteShell().check(sshTarget(node, await provider.sshIdentity()), command, { label: command });
}
