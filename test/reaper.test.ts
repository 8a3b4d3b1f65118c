// The reaper on the dev server with real local nodes: clusters of closed and unknown runs are removed, a
// running run's cluster is untouched, one failure spares the rest; the schedule is created once; EC2 on moto.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createReaperActivities, type ReapableProvider, type RunLookup, type StraySearch } from '../src/activities/reaper';
import { createAwsProvider } from '../src/providers/aws';
import type { ClusterRef, ImageRecord } from '../src/providers/provider';
import { bindRun, type RunProvider } from '../src/providers/run-provider';
import { WORKFLOW_TYPE } from '../src/common/names';
import {
  buildReaperDeps,
  ensureReaperSchedule,
  readReaperConfig,
  reaperScheduleId,
  temporalRunLookup,
} from '../src/worker/reaper-schedule';
import type { reapStrays } from '../src/workflows/reaper';
import { liveNodeProcesses, testProvider } from './helpers/local-lab';
import { clusterLeftovers, createHarness, motoClientFactory, motoUnavailableReason, startMoto } from './helpers/moto';
import { testClient, uniqueId, withWorker } from './helpers/temporal';

/** This file's clusters only: the test lab is shared, and other suites' clusters have no workflow either. */
function labView(prefix: string, failCleanupOf: string): ReapableProvider {
  return {
    listClusters: async () => (await testProvider.listClusters()).filter((id) => id.startsWith(prefix)),
    terminateNodes: (ref, names) => testProvider.terminateNodes(ref, names),
    cleanup: (ref) =>
      ref.clusterId === failCleanupOf
        ? Promise.reject(ApplicationFailure.nonRetryable('injected cleanup failure', 'InjectedFault'))
        : testProvider.cleanup(ref),
  };
}

describe('reaper on local nodes', () => {
  const prefix = `${uniqueId('reaper')}-`;
  const ids = {
    closed: `${prefix}closed`,
    running: `${prefix}running`,
    unknown: `${prefix}unknown`,
    failing: `${prefix}failing`,
  };
  const unpolledQueue = uniqueId('reaper-unpolled');
  let client: Client;
  let close: () => Promise<void>;

  before(async () => {
    ({ client, close } = await testClient());
    for (const clusterId of Object.values(ids)) {
      await testProvider.launchNodes({ cluster: { clusterId, runName: 'reaper-test' }, role: 'master', names: ['master'] });
    }
    // Runs nobody executes: one terminated (closed), one left running.
    const start = (workflowId: string) =>
      client.workflow.start(WORKFLOW_TYPE, { workflowId, taskQueue: unpolledQueue, args: [] });
    await (await start(ids.closed)).terminate('the reaper test closes this run');
    await start(ids.running);
  });

  after(async () => {
    await client.workflow.getHandle(ids.running).terminate('reaper test done');
    for (const clusterId of Object.values(ids)) await testProvider.cleanup({ clusterId, runName: 'reaper-test' });
    await close();
  });

  it('removes the clusters of closed and unknown runs, leaves a running run alone, and reports a failure without stopping', async () => {
    const activities = createReaperActivities({
      providers: new Map([['local', labView(prefix, ids.failing)]]),
      runs: temporalRunLookup(client),
    });
    const result = await withWorker(activities, ({ client: workerClient, taskQueue }) =>
      workerClient.workflow.execute<typeof reapStrays>('reapStrays', { taskQueue, workflowId: uniqueId('reap') }),
    );
    assert.deepEqual(result, {
      reaped: [ids.closed, ids.unknown].sort(),
      skipped: [],
      failed: [{ clusterId: ids.failing, error: 'InjectedFault: injected cleanup failure' }],
      listFailed: [],
    });
    assert.equal(await liveNodeProcesses(ids.closed), 0);
    assert.equal(await liveNodeProcesses(ids.unknown), 0);
    assert.equal(await liveNodeProcesses(ids.running), 1, 'a running run keeps its node');
    const left = (await testProvider.listClusters()).filter((id) => id.startsWith(prefix));
    assert.deepEqual(left, [ids.failing, ids.running].sort());
  });

  it('does not remove a cluster whose run is open, even when asked to by name', async () => {
    const { reapCluster } = createReaperActivities({
      providers: new Map([['local', testProvider]]),
      runs: temporalRunLookup(client),
    });
    const outcome = await new MockActivityEnvironment().run(reapCluster, { provider: 'local', clusterId: ids.running });
    assert.equal(outcome, 'run-open');
    assert.equal(await liveNodeProcesses(ids.running), 1);
  });
});

describe('reaper schedule', () => {
  it('is created once, skips overlapping sweeps and starts reapStrays on the worker task queue', async () => {
    const { client, close } = await testClient();
    const taskQueue = uniqueId('reaper-schedule');
    try {
      // A daily interval: it does not fire while the test runs.
      assert.equal(await ensureReaperSchedule(client, taskQueue, '1 day'), 'created');
      assert.equal(await ensureReaperSchedule(client, taskQueue, '1 day'), 'exists');
      const described = await client.schedule.getHandle(reaperScheduleId(taskQueue)).describe();
      assert.equal(described.policies.overlap, 'SKIP');
      assert.equal(described.action.type, 'startWorkflow');
      assert.equal(described.action.workflowType, 'reapStrays');
      assert.equal(described.action.taskQueue, taskQueue);
      assert.deepEqual(
        described.spec.intervals?.map((i) => i.every),
        [24 * 60 * 60 * 1000],
      );
    } finally {
      await client.schedule.getHandle(reaperScheduleId(taskQueue)).delete();
      await close();
    }
  });
});

describe('reaper settings', () => {
  it('sweeps local only by default, listed AWS regions too, and can leave the schedule out', () => {
    assert.deepEqual(readReaperConfig({}), { scheduled: true, awsRegions: [] });
    assert.deepEqual(
      readReaperConfig({ TUNEFORGE_REAPER: 'off', TUNEFORGE_REAP_AWS_REGIONS: ' us-east-1, eu-west-1,us-east-1 ' }),
      {
        scheduled: false,
        awsRegions: ['us-east-1', 'eu-west-1'],
      },
    );
    assert.throws(() => readReaperConfig({ TUNEFORGE_REAP_AWS_REGIONS: 'us-east-1,mars' }), /TUNEFORGE_REAP_AWS_REGIONS .* mars/);
    assert.throws(() => readReaperConfig({ TUNEFORGE_REAPER: 'no' }), /TUNEFORGE_REAPER must be on or off/);
  });
});

describe('reaper on EC2 (moto)', { skip: motoUnavailableReason() }, () => {
  it("removes a closed run's security group and key pair through a provider built without a spec", async () => {
    const moto = await startMoto();
    const { client, close } = await testClient();
    try {
      const h = createHarness(moto);
      await h.provider.bootstrap(h.cluster);
      const runs: RunLookup = { isClosed: async (id) => id === h.cluster.clusterId };
      const built = buildReaperDeps(client, {
        local: { listClusters: async () => [], terminateNodes: async () => undefined, cleanup: async () => undefined },
        aws: [
          [
            h.settings.region,
            createAwsProvider(
              { region: h.settings.region },
              { createClient: motoClientFactory(moto.endpoint, h.accountId, h.faults), sleep: async () => undefined },
            ),
          ],
        ],
      });
      const { findStrayClusters, reapCluster } = createReaperActivities({ ...built, runs });
      const search = await new MockActivityEnvironment().run(findStrayClusters);
      const stray = { provider: `aws:${h.settings.region}`, clusterId: h.cluster.clusterId };
      assert.deepEqual(search, { strays: [stray], listFailed: [] });
      assert.equal(await new MockActivityEnvironment().run(reapCluster, stray), 'reaped');
      assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
    } finally {
      await close();
      await moto.stop();
    }
  });

  it("honours a crashed run's keepImage: a keepImage:false run's image goes, a keepImage:true one stays, an images-only cluster is found", async () => {
    const moto = await startMoto();
    const { client, close } = await testClient();
    try {
      // Run A (keepImage: false) crashed during its cleanup: only its image and snapshots are left.
      const a = createHarness(moto, { keepImage: false });
      const imageA = await bakeOnMaster(a.provider, a.cluster, `fp-a-${a.cluster.clusterId}`);
      await a.provider.terminateNodes(a.cluster);
      await removeGroupAndKeyPair(a.ec2, a.cluster.clusterId);
      assert.deepEqual(await clusterLeftovers(a.ec2, a.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
      // Run B (keepImage: true, same account and region) crashed mid-run: nodes, group, key pair and its image.
      const clusterB = { clusterId: `${a.cluster.clusterId}-b`, runName: 'run-test-b' };
      const b = bindRun(a.regionProvider, { provider: 'aws', aws: { ...a.settings, keepImage: true } });
      const imageB = await bakeOnMaster(b, clusterB, `fp-b-${a.cluster.clusterId}`);

      const reaperProvider = createAwsProvider(
        { region: a.settings.region },
        { createClient: motoClientFactory(moto.endpoint, a.accountId, a.faults), sleep: async () => undefined },
      );
      assert.deepEqual(await reaperProvider.listClusters(), [a.cluster.clusterId, clusterB.clusterId].sort());
      const built = buildReaperDeps(client, {
        local: { listClusters: async () => [], terminateNodes: async () => undefined, cleanup: async () => undefined },
        aws: [[a.settings.region, reaperProvider]],
      });
      const closed = new Set([a.cluster.clusterId, clusterB.clusterId]);
      const { findStrayClusters, reapCluster } = createReaperActivities({
        ...built,
        runs: { isClosed: async (id) => closed.has(id) },
      });
      const search: StraySearch = await new MockActivityEnvironment().run(findStrayClusters);
      assert.deepEqual(
        search.strays.map((stray) => stray.clusterId),
        [a.cluster.clusterId, clusterB.clusterId].sort(),
      );
      for (const stray of search.strays) assert.equal(await new MockActivityEnvironment().run(reapCluster, stray), 'reaped');

      assert.deepEqual(await imageIdsOfCluster(a.ec2, a.cluster.clusterId), [], "run A's image is deregistered");
      assert.deepEqual(await snapshotIdsOfCluster(a.ec2, a.cluster.clusterId), [], "run A's snapshots are deleted");
      assert.deepEqual(await imageIdsOfCluster(a.ec2, clusterB.clusterId), [imageB.imageId], "run B's image is kept");
      assert.ok(imageA.imageId !== imageB.imageId);
      assert.deepEqual(await clusterLeftovers(a.ec2, clusterB.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
      // Nothing reapable is left: a kept image is no stray, so later sweeps do not find these clusters again.
      assert.deepEqual(await reaperProvider.listClusters(), []);
    } finally {
      await close();
      await moto.stop();
    }
  });
});

async function bakeOnMaster(provider: RunProvider, cluster: ClusterRef, fingerprint: string): Promise<ImageRecord> {
  await provider.bootstrap(cluster);
  const [master] = await provider.launchNodes({ cluster, role: 'master', names: ['master'] });
  assert.ok(master);
  return provider.bakeImage(cluster, master, fingerprint);
}

/** What a cleanup interrupted after its key pairs leaves: the groups and key pairs of the cluster gone, its images not. */
async function removeGroupAndKeyPair(ec2: EC2Client, clusterId: string): Promise<void> {
  const tag = [{ Name: 'tag:tuneforge:cluster', Values: [clusterId] }];
  for (const group of (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag }))).SecurityGroups ?? []) {
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
  }
  for (const keyPair of (await ec2.send(new DescribeKeyPairsCommand({ Filters: tag }))).KeyPairs ?? []) {
    await ec2.send(new DeleteKeyPairCommand({ KeyName: keyPair.KeyName }));
  }
}

async function imageIdsOfCluster(ec2: EC2Client, clusterId: string): Promise<string[]> {
  const filters = [{ Name: 'tag:tuneforge:cluster', Values: [clusterId] }];
  const { Images: images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: filters }));
  return images.map((image) => image.ImageId ?? '');
}

async function snapshotIdsOfCluster(ec2: EC2Client, clusterId: string): Promise<string[]> {
  const filters = [{ Name: 'tag:tuneforge:cluster', Values: [clusterId] }];
  const { Snapshots: snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: filters }));
  return snapshots.map((snapshot) => snapshot.SnapshotId ?? '');
}
