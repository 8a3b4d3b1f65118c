// EC2 launches as a real account answers them, faults injected on the provider's real client (moto
// behind it): quota errors are their own non-retryable failure, and a replacement for a reclaimed node
// fails over to other zones like a first launch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../src/common/errors';
import {
  ALIVE,
  callsOf,
  clusterInstances,
  createHarness,
  launchAttempts,
  motoUnavailableReason,
  startMoto,
  subnetZones,
  type MotoHarness,
  type MotoServer,
} from './helpers/moto';

function isQuotaFailure(quotaCode: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, FailureType.QuotaExceeded);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, new RegExp(`--quota-code ${quotaCode}`));
    assert.match(error.message, /Service Quotas console/);
    assert.match(error.message, /aws service-quotas request-service-quota-increase --service-code ec2/);
    return true;
  };
}

describe('EC2 launch realism (moto)', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  test('VcpuLimitExceeded is a non-retryable QuotaExceeded naming the on-demand quota: no retry, no failover, nothing running', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'VcpuLimitExceeded', httpStatus: 400 });
    await assert.rejects(h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] }), (error) => {
      isQuotaFailure('L-1216C47A')(error);
      assert.match((error as Error).message, /Running On-Demand Standard \(A, C, D, H, I, M, R, T, Z\) instances/);
      return true;
    });
    assert.deepEqual(await launchAttempts(h), ['r7iz.metal-16xl@us-east-1a'], 'another zone or type hits the same quota');
    assert.deepEqual(h.sleeps, [], 'not retried');
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 0);
  });

  test('MaxSpotInstanceCountExceeded on a spot launch names the spot quota, not capacity', async () => {
    const h = createHarness(moto, { market: 'spot' });
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'MaxSpotInstanceCountExceeded', httpStatus: 400 });
    await assert.rejects(h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] }), (error) => {
      isQuotaFailure('L-34B43A08')(error);
      assert.match((error as Error).message, /All Standard \(A, C, D, H, I, M, R, T, Z\) Spot Instance Requests/);
      return true;
    });
    assert.equal(callsOf(h.faults, 'RunInstances').length, 1);
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 0);
  });

  test('a replacement for a reclaimed node fails over to another zone when the cluster zone has no capacity', async () => {
    const h = createHarness(moto, { instanceTypes: ['r7iz.metal-16xl'], availabilityZones: ['us-east-1a', 'us-east-1b'] });
    await h.provider.bootstrap(h.cluster);
    await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    const [worker] = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1'] });
    assert.ok(worker);
    assert.deepEqual(await launchAttempts(h), ['r7iz.metal-16xl@us-east-1a', 'r7iz.metal-16xl@us-east-1a']);

    // Reclaimed: the instance is gone, and the zone that lost it has no capacity left.
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [worker.providerId] }));
    h.faults.calls.length = 0;
    const zones = await subnetZones(h.ec2);
    h.faults.rules.push({
      command: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      httpStatus: 500,
      when: (input) => zones.get(String(input.SubnetId)) === 'us-east-1a',
    });
    const [replacement] = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1'] });
    assert.deepEqual(await launchAttempts(h), ['r7iz.metal-16xl@us-east-1a', 'r7iz.metal-16xl@us-east-1b']);
    const live = await clusterInstances(h.ec2, h.cluster.clusterId, ['pending', 'running']);
    const placed = live.find((instance) => instance.InstanceId === replacement?.providerId);
    assert.equal(placed?.Placement?.AvailabilityZone, 'us-east-1b');
    assert.equal(live.length, 2, 'the master and the replacement');
  });

  test('spot-then-on-demand launches on-demand after N spot capacity failures; siblings in the same launch go straight to on-demand', async () => {
    const h = createHarness(moto, {
      market: 'spot-then-on-demand',
      spotFailuresBeforeOnDemand: 2,
      instanceTypes: ['r7iz.metal-16xl'],
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    });
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'InsufficientInstanceCapacity', httpStatus: 500, when: isSpot });
    const [master] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    const workers = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1', 'worker-2'] });
    assert.deepEqual(await marketAttempts(h), [
      'spot r7iz.metal-16xl@us-east-1a',
      'spot r7iz.metal-16xl@us-east-1b',
      'on-demand r7iz.metal-16xl@us-east-1a',
      // A later launch (the workers) tries spot again from the master's placement; worker-2 follows worker-1 to on-demand.
      'spot r7iz.metal-16xl@us-east-1a',
      'spot r7iz.metal-16xl@us-east-1b',
      'on-demand r7iz.metal-16xl@us-east-1a',
      'on-demand r7iz.metal-16xl@us-east-1a',
    ]);
    assert.deepEqual(
      [master, ...workers].map((node) => node?.market),
      ['on-demand', 'on-demand', 'on-demand'],
    );
    const lifecycles = (await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).map((i) => i.InstanceLifecycle ?? 'on-demand');
    assert.deepEqual(lifecycles, ['on-demand', 'on-demand', 'on-demand']);
  });

  test('spot-then-on-demand stays on spot when spot finds capacity within N tries', async () => {
    const h = createHarness(moto, {
      market: 'spot-then-on-demand',
      instanceTypes: ['r7iz.metal-16xl'],
      availabilityZones: ['us-east-1a', 'us-east-1b'],
    });
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({
      command: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      httpStatus: 500,
      when: isSpot,
      times: 1,
    });
    const [master] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.deepEqual(await marketAttempts(h), ['spot r7iz.metal-16xl@us-east-1a', 'spot r7iz.metal-16xl@us-east-1b']);
    assert.equal(master?.market, 'spot');
    assert.equal(h.settings.spotFailuresBeforeOnDemand, 3, 'the test settings use the default');
  });
});

function isSpot(input: Record<string, unknown>): boolean {
  return (input.InstanceMarketOptions as { MarketType?: string } | undefined)?.MarketType === 'spot';
}

/** The RunInstances calls made, as "market type@zone". */
async function marketAttempts(h: MotoHarness): Promise<string[]> {
  const places = await launchAttempts(h);
  return callsOf(h.faults, 'RunInstances').map((input, i) => `${isSpot(input) ? 'spot' : 'on-demand'} ${places[i] ?? '?'}`);
}
