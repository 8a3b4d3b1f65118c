// Faults injected by SDK middleware on the provider's real client (moto behind it): capacity
// failover, throttling retries, non-retryable image and auth errors, and no leaks after failures.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import {
  callsOf,
  clusterInstances,
  clusterLeftovers,
  createHarness,
  launchAttempts,
  motoUnavailableReason,
  startMoto,
  subnetZones,
  type MotoHarness,
  type MotoServer,
} from './helpers/moto';

const LIVE = ['pending', 'running'];

function failureType(error: unknown): string | undefined {
  return error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined;
}

function noCapacityIn(h: MotoHarness, zonesBySubnet: Map<string, string>, instanceType: string, zone: string): void {
  h.faults.rules.push({
    command: 'RunInstances',
    code: 'InsufficientInstanceCapacity',
    httpStatus: 500,
    when: (input) => input.InstanceType === instanceType && zonesBySubnet.get(String(input.SubnetId)) === zone,
  });
}

describe('aws provider faults', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  test('InsufficientInstanceCapacity fails over to the next zone, then to the next instance type', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const zones = await subnetZones(h.ec2);
    noCapacityIn(h, zones, 'r7iz.metal-16xl', 'us-east-1a');
    const [inZoneB] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.equal(inZoneB?.instanceType, 'r7iz.metal-16xl');
    assert.deepEqual(await launchAttempts(h), ['r7iz.metal-16xl@us-east-1a', 'r7iz.metal-16xl@us-east-1b']);

    const other = createHarness(moto);
    await other.provider.bootstrap(other.cluster);
    const otherZones = await subnetZones(other.ec2);
    noCapacityIn(other, otherZones, 'r7iz.metal-16xl', 'us-east-1a');
    noCapacityIn(other, otherZones, 'r7iz.metal-16xl', 'us-east-1b');
    const [nextType] = await other.provider.launchNodes({ cluster: other.cluster, role: 'master', names: ['master'] });
    assert.equal(nextType?.instanceType, 'm7i.48xlarge');
    assert.deepEqual(await launchAttempts(other), [
      'r7iz.metal-16xl@us-east-1a',
      'r7iz.metal-16xl@us-east-1b',
      'm7i.48xlarge@us-east-1a',
    ]);
    assert.equal(h.sleeps.length + other.sleeps.length, 0, 'capacity errors are not retried in place');
  });

  test('workers go to the zone and type where the master runs, even when other zones have capacity again', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const zones = await subnetZones(h.ec2);
    h.faults.rules.push({
      command: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      httpStatus: 500,
      when: (input) => zones.get(String(input.SubnetId)) === 'us-east-1a',
      times: 1,
    });
    await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1', 'worker-2'] });
    const instances = await clusterInstances(h.ec2, h.cluster.clusterId, LIVE);
    assert.deepEqual(
      instances.map((instance) => `${instance.InstanceType}@${instance.Placement?.AvailabilityZone}`),
      ['r7iz.metal-16xl@us-east-1b', 'r7iz.metal-16xl@us-east-1b', 'r7iz.metal-16xl@us-east-1b'],
    );
  });

  test('no capacity anywhere is a retryable CapacityUnavailable naming every placement tried, and nothing is left running', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'InsufficientInstanceCapacity', httpStatus: 500 });
    await assert.rejects(h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] }), (error) => {
      assert.equal(failureType(error), 'CapacityUnavailable');
      assert.ok(error instanceof ApplicationFailure && !error.nonRetryable);
      assert.deepEqual(error.details?.[0], {
        tried: [
          'r7iz.metal-16xl in us-east-1a (on-demand)',
          'r7iz.metal-16xl in us-east-1b (on-demand)',
          'm7i.48xlarge in us-east-1a (on-demand)',
          'm7i.48xlarge in us-east-1b (on-demand)',
        ],
      });
      return true;
    });
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId)).length, 0);
    await h.provider.cleanup(h.cluster);
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
  });

  test('spot capacity codes fail over too', async () => {
    const h = createHarness(moto, {
      market: 'spot',
      instanceTypes: ['r7iz.metal-16xl'],
      availabilityZones: ['us-east-1a', 'us-east-1c'],
    });
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'SpotMaxPriceTooLow', httpStatus: 400, times: 1 });
    const [node] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.equal(node?.market, 'spot');
    assert.deepEqual(await launchAttempts(h), ['r7iz.metal-16xl@us-east-1a', 'r7iz.metal-16xl@us-east-1c']);
  });

  test('RequestLimitExceeded is retried with backoff and launches exactly once', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'RequestLimitExceeded', httpStatus: 503, times: 2 });
    h.faults.rules.push({ command: 'DescribeInstances', code: 'RequestLimitExceeded', httpStatus: 503, times: 1 });
    const [node] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.equal(node?.state, 'running');
    assert.equal(h.sleeps.length, 3);
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId)).length, 1);
    const tokens = new Set(callsOf(h.faults, 'RunInstances').map((input) => input.ClientToken));
    assert.equal(tokens.size, 1, 'retries repeat the same client token');
  });

  test('throttling that does not stop ends with the API error after a bounded number of attempts', async () => {
    const h = createHarness(moto);
    h.faults.rules.push({ command: 'DescribeVpcs', code: 'RequestLimitExceeded', httpStatus: 503 });
    await assert.rejects(
      h.provider.bootstrap(h.cluster),
      (error) => error instanceof Error && error.name === 'RequestLimitExceeded',
    );
    assert.equal(callsOf(h.faults, 'DescribeVpcs').length, 6);
    assert.equal(h.sleeps.length, 5);
  });

  test('InvalidAMIID.NotFound from RunInstances is a non-retryable ImageNotFound without failover, and nothing leaks', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    h.faults.rules.push({ command: 'RunInstances', code: 'InvalidAMIID.NotFound', httpStatus: 400 });
    await assert.rejects(h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] }), (error) => {
      assert.equal(failureType(error), 'ImageNotFound');
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      return true;
    });
    assert.equal(callsOf(h.faults, 'RunInstances').length, 1);
    assert.equal(h.sleeps.length, 0);
    await h.provider.cleanup(h.cluster);
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
  });

  test('UnauthorizedOperation is a non-retryable AuthFailed', async () => {
    const h = createHarness(moto);
    h.faults.rules.push({ command: 'CreateSecurityGroup', code: 'UnauthorizedOperation', httpStatus: 403 });
    await assert.rejects(h.provider.bootstrap(h.cluster), (error) => {
      assert.equal(failureType(error), 'AuthFailed');
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      return true;
    });
    assert.equal(h.sleeps.length, 0);
  });

  test('a failure after some nodes launched leaves nothing once the cluster is torn down', async () => {
    const h = createHarness(moto, { instanceTypes: ['r7iz.metal-16xl'], availabilityZones: ['us-east-1a'] });
    await h.provider.bootstrap(h.cluster);
    await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    h.faults.rules.push({
      command: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      httpStatus: 500,
      when: (input) => JSON.stringify(input.TagSpecifications).includes('worker-2'),
    });
    await assert.rejects(
      h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1', 'worker-2'] }),
      (error) => failureType(error) === 'CapacityUnavailable',
    );
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, LIVE)).length, 2);
    await h.provider.cleanup(h.cluster);
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
  });

  test('cleanup retries DependencyViolation while instances release the group, then deletes it', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    // moto deletes a group still in use at once; real EC2 refuses until its instances are gone.
    h.faults.rules.push({ command: 'DeleteSecurityGroup', code: 'DependencyViolation', httpStatus: 400, times: 3 });
    await h.provider.cleanup(h.cluster);
    assert.equal(callsOf(h.faults, 'DeleteSecurityGroup').length, 4);
    assert.equal(h.sleeps.length, 3);
    const tag = [{ Name: 'tag:tuneforge:cluster', Values: [h.cluster.clusterId] }];
    assert.equal((await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag }))).SecurityGroups?.length, 0);
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
  });
});
