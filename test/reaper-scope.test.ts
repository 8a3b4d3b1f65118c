// Reapers of different deployments on one account: each touches only clusters tagged at launch with its own
// namespace and task queue, although every other deployment's run is unknown in its namespace (the old "leak").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityScope } from '../src/activities/deps';
import { createReaperActivities, type ReapableProvider, type StraySearch } from '../src/activities/reaper';
import { createAwsProvider } from '../src/providers/aws';
import type { ClusterRef, ClusterScope } from '../src/providers/provider';
import { temporalRunLookup } from '../src/worker/reaper-schedule';
import { liveNodeProcesses, testLabProvider, testProvider } from './helpers/local-lab';
import { clusterLeftovers, createHarness, motoClientFactory, motoUnavailableReason, startMoto } from './helpers/moto';
import { testClient, uniqueId } from './helpers/temporal';

/** The scope an activity of this deployment tags its clusters with, as the launch activities compute it. */
async function scopeOf(namespace: string, taskQueue: string): Promise<ClusterScope> {
  let scope: ClusterScope | undefined;
  await new MockActivityEnvironment({ namespace, taskQueue }).run(async () => {
    scope = activityScope();
  });
  assert.deepEqual(scope, { namespace, taskQueue });
  return { namespace, taskQueue };
}

describe('reaper scope', () => {
  it(
    'on EC2 (moto): staging, production and a second queue of staging never reap each other',
    { skip: motoUnavailableReason() },
    async () => {
      const moto = await startMoto();
      const { client, close } = await testClient();
      try {
        const h = createHarness(moto);
        const scopes = {
          staging: await scopeOf('staging', 'tuneforge'),
          production: await scopeOf('production', 'tuneforge'),
          stagingOther: await scopeOf('staging', 'tuneforge-gpu'),
        };
        const clusters: Record<keyof typeof scopes, ClusterRef> = {
          staging: { clusterId: `${h.cluster.clusterId}-stg`, runName: 'run-stg', scope: scopes.staging },
          production: { clusterId: `${h.cluster.clusterId}-prd`, runName: 'run-prd', scope: scopes.production },
          stagingOther: { clusterId: `${h.cluster.clusterId}-gpu`, runName: 'run-gpu', scope: scopes.stagingOther },
        };
        for (const cluster of Object.values(clusters)) {
          await h.provider.bootstrap(cluster);
          await h.provider.launchNodes({ cluster, role: 'master', names: ['master'] });
        }
        const reaperProvider = createAwsProvider(
          { region: h.settings.region },
          { createClient: motoClientFactory(moto.endpoint, h.accountId, h.faults), sleep: async () => undefined },
        );
        const provider = `aws:${h.settings.region}`;
        // The real lookup: none of these runs exists in the dev server's namespace, so each looks closed to every reaper.
        const reaperOf = (scope: ClusterScope) =>
          createReaperActivities({ providers: new Map([[provider, reaperProvider]]), runs: temporalRunLookup(client), scope });

        for (const name of ['staging', 'production', 'stagingOther'] as const) {
          const { findStrayClusters, reapCluster } = reaperOf(scopes[name]);
          const search = await new MockActivityEnvironment().run(findStrayClusters);
          assert.deepEqual(search, { strays: [{ provider, clusterId: clusters[name].clusterId }], listFailed: [] }, name);
          for (const stray of search.strays) assert.equal(await new MockActivityEnvironment().run(reapCluster, stray), 'reaped');
          assert.deepEqual(await clusterLeftovers(h.ec2, clusters[name].clusterId), { instances: 0, groups: 0, keyPairs: 0 });
          // The deployments whose reapers have not run yet still have everything.
          const rest = Object.values(clusters).slice(Object.keys(clusters).indexOf(name) + 1);
          for (const other of rest)
            assert.deepEqual(
              await clusterLeftovers(h.ec2, other.clusterId),
              { instances: 1, groups: 1, keyPairs: 1 },
              `${name} spared ${other.clusterId}`,
            );
        }
        // A scope with no clusters of its own finds nothing.
        const nobody = await new MockActivityEnvironment().run(reaperOf(await scopeOf('other', 'tuneforge')).findStrayClusters);
        assert.deepEqual(nobody, { strays: [], listFailed: [] });
      } finally {
        await close();
        await moto.stop();
      }
    },
  );

  it('on local nodes: a reaper lists only the lab clusters recorded with its scope', async () => {
    const prefix = `${uniqueId('scope')}-`;
    const mine = await scopeOf('default', uniqueId('queue-a'));
    const theirs = await scopeOf('default', uniqueId('queue-b'));
    const refs = [
      { clusterId: `${prefix}mine`, runName: 'scope-test', scope: mine },
      { clusterId: `${prefix}theirs`, runName: 'scope-test', scope: theirs },
    ];
    try {
      for (const cluster of refs) await testProvider.launchNodes({ cluster, role: 'master', names: ['master'] });
      const lab: ReapableProvider = testLabProvider;
      assert.deepEqual(await lab.listClusters(undefined, mine), [`${prefix}mine`]);
      assert.deepEqual(await lab.listClusters(undefined, theirs), [`${prefix}theirs`]);
      const { client, close } = await testClient();
      try {
        const { findStrayClusters, reapCluster } = createReaperActivities({
          providers: new Map([['local', lab]]),
          runs: temporalRunLookup(client),
          scope: mine,
        });
        const search: StraySearch = await new MockActivityEnvironment().run(findStrayClusters);
        assert.deepEqual(search.strays, [{ provider: 'local', clusterId: `${prefix}mine` }]);
        for (const stray of search.strays) await new MockActivityEnvironment().run(reapCluster, stray);
      } finally {
        await close();
      }
      assert.equal(await liveNodeProcesses(`${prefix}mine`), 0);
      assert.equal(await liveNodeProcesses(`${prefix}theirs`), 1, "the other queue's node is untouched");
    } finally {
      for (const cluster of refs) await testProvider.cleanup(cluster);
    }
  });
});
