// The AWS provider's verbs against a real moto_server: records, tags, rules, idempotent relaunch, teardown.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeInstanceAttributeCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  TerminateInstancesCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { createAwsProvider } from '../src/providers/aws';
import { IMDS_NOTICE_COMMAND } from '../src/providers/aws/interruption';
import { OPENSSH_BEGIN } from '../src/providers/aws/ssh-keys';
import {
  ALIVE,
  clusterInstances,
  clusterLeftovers,
  createHarness,
  motoClientFactory,
  MOTO_UBUNTU_IMAGE_ID,
  motoUnavailableReason,
  startMoto,
  TEST_SSH_CIDR,
  type MotoServer,
} from './helpers/moto';

function failureType(error: unknown): string | undefined {
  return error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined;
}

/** Ingress rules as comparable strings: "proto:from:to:source". */
function ruleStrings(permissions: IpPermission[], selfGroupId: string): string[] {
  return permissions
    .flatMap((permission) => {
      const head = permission.IpProtocol === '-1' ? '-1' : `${permission.IpProtocol}:${permission.FromPort}:${permission.ToPort}`;
      return [
        ...(permission.IpRanges ?? []).map((range) => `${head}:${range.CidrIp}`),
        ...(permission.Ipv6Ranges ?? []).map((range) => `${head}:${range.CidrIpv6}`),
        ...(permission.UserIdGroupPairs ?? []).map((pair) => `${head}:${pair.GroupId === selfGroupId ? 'self' : pair.GroupId}`),
      ];
    })
    .sort();
}

describe('aws provider on moto', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  test('bootstrap creates a tagged group that allows only itself and the SSH CIDR on 22, and a tagged key pair', async () => {
    const h = createHarness(moto);
    const info = await h.provider.bootstrap(h.cluster);
    assert.deepEqual(info, {
      clusterId: h.cluster.clusterId,
      provider: 'aws',
      sshUser: 'ubuntu',
      rendezvousPort: 29500,
      nodesShareCpus: false,
      noticeCommand: IMDS_NOTICE_COMMAND,
    });

    const tag = [{ Name: 'tag:tuneforge:cluster', Values: [h.cluster.clusterId] }];
    const { SecurityGroups: groups = [] } = await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag }));
    assert.equal(groups.length, 1);
    const group = groups[0];
    assert.ok(group?.GroupId);
    assert.deepEqual(ruleStrings(group.IpPermissions ?? [], group.GroupId), ['-1:self', `tcp:22:22:${TEST_SSH_CIDR}`]);

    const { KeyPairs: keyPairs = [] } = await h.ec2.send(new DescribeKeyPairsCommand({ Filters: tag }));
    assert.equal(keyPairs.length, 1);
    assert.match(keyPairs[0]?.KeyName ?? '', new RegExp(`^tuneforge-${h.cluster.clusterId}-[0-9a-f]{12}$`));

    // A second bootstrap changes nothing.
    await h.provider.bootstrap(h.cluster);
    assert.equal((await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag }))).SecurityGroups?.length, 1);
    assert.equal((await h.ec2.send(new DescribeKeyPairsCommand({ Filters: tag }))).KeyPairs?.length, 1);
  });

  test('concurrent bootstraps of one cluster make one group and one key pair', async () => {
    const h = createHarness(moto);
    await Promise.all([h.provider.bootstrap(h.cluster), h.secondProvider().bootstrap(h.cluster)]);
    const leftovers = await clusterLeftovers(h.ec2, h.cluster.clusterId);
    assert.deepEqual(leftovers, { instances: 0, groups: 1, keyPairs: 1 });
  });

  test('bootstrap revokes rules beyond the desired ones (e.g. SSH from anywhere)', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const tag = [{ Name: 'tag:tuneforge:cluster', Values: [h.cluster.clusterId] }];
    const groupId = (await h.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tag }))).SecurityGroups?.[0]?.GroupId;
    assert.ok(groupId);
    await h.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    await h.provider.bootstrap(h.cluster);
    const group = (await h.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0];
    assert.deepEqual(ruleStrings(group?.IpPermissions ?? [], groupId), ['-1:self', `tcp:22:22:${TEST_SSH_CIDR}`]);
  });

  test('bootstrap refuses a run without an SSH CIDR, with one open to the internet, or with a missing key file, creating nothing', async () => {
    const h = createHarness(moto);
    const { sshCidr: _omitted, ...withoutCidr } = h.settings;
    const bootstrap = (settings: typeof h.settings, operatorCidr?: string) =>
      createAwsProvider(
        { region: settings.region },
        { createClient: motoClientFactory(moto.endpoint, h.accountId, h.faults), ...(operatorCidr ? { operatorCidr } : {}) },
      ).bootstrap(h.cluster, { provider: 'aws', aws: settings });
    const refusedAt = (path: string) => (error: unknown) => {
      assert.equal(failureType(error), 'SpecInvalid');
      assert.match(String((error as Error).message), new RegExp(path.replace('.', '\\.')));
      return true;
    };
    await assert.rejects(bootstrap(withoutCidr), refusedAt('aws.sshCidr'));
    await assert.rejects(bootstrap({ ...h.settings, sshCidr: '0.0.0.0/0' }), refusedAt('aws.sshCidr'));
    await assert.rejects(
      bootstrap({ ...h.settings, privateKeyPath: '/nonexistent/id_ed25519' }),
      refusedAt('aws.privateKeyPath'),
    );
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
    await bootstrap(withoutCidr, '198.51.100.4/32');
    assert.equal((await clusterLeftovers(h.ec2, h.cluster.clusterId)).groups, 1);
  });

  test('an unknown base image id fails bootstrap with a non-retryable ImageNotFound before anything is created', async () => {
    const h = createHarness(moto, { baseImage: { id: 'ami-0123456789abcdef0' } });
    await assert.rejects(h.provider.bootstrap(h.cluster), (error) => {
      assert.equal(failureType(error), 'ImageNotFound');
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      return true;
    });
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
  });

  test('launchNodes returns running records with derived host keys; a second call adopts instead of relaunching', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const [master] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.ok(master);
    assert.equal(master.name, 'master');
    assert.equal(master.role, 'master');
    assert.equal(master.state, 'running');
    assert.equal(master.instanceType, 'r7iz.metal-16xl');
    assert.equal(master.market, 'on-demand');
    assert.equal(master.sshPort, 22);
    assert.match(master.providerId, /^i-/);
    assert.match(master.hostKey, /^ssh-ed25519 AAAA/);
    assert.ok(master.address.length > 0 && master.privateAddress.length > 0);
    assert.doesNotThrow(() => new Date(master.launchedAt).toISOString());
    assert.deepEqual(JSON.parse(JSON.stringify(master)), master, 'records are JSON-plain');

    const workers = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1', 'worker-2'] });
    assert.deepEqual(
      workers.map((node) => node.name),
      ['worker-1', 'worker-2'],
    );
    // A retry after a crash: the same call again launches nothing.
    const again = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1', 'worker-2'] });
    assert.deepEqual(
      again.map((node) => node.providerId),
      workers.map((node) => node.providerId),
    );
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId)).length, 3);

    const listed = await h.provider.listNodes(h.cluster);
    assert.deepEqual(
      listed.map((node) => [node.name, node.hostKey]).sort(),
      [master, ...workers].map((node) => [node.name, node.hostKey]).sort(),
    );
  });

  test('the host key in the user data is the one in the record, and sshd-readable', async (t) => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const [node] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.ok(node);
    const attribute = await h.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: node.providerId, Attribute: 'userData' }),
    );
    const userData = Buffer.from(attribute.UserData?.Value ?? '', 'base64').toString('utf8');
    assert.match(userData, /^#cloud-config\n/);
    assert.match(userData, /ssh_deletekeys: true/);
    assert.ok(userData.includes(`ed25519_public: ${node.hostKey}`));
    assert.ok(!JSON.stringify(node).includes('PRIVATE KEY'), 'the record holds no private key');

    const privateKey = /ed25519_private: \|\n((?: {4}.*\n)+)/.exec(userData)?.[1]?.replace(/^ {4}/gm, '');
    assert.ok(privateKey !== undefined && privateKey.startsWith(OPENSSH_BEGIN));
    const file = join(mkdtempSync(join(tmpdir(), 'tuneforge-hostkey-')), 'ssh_host_ed25519_key');
    writeFileSync(file, privateKey, { mode: 0o600 });
    let derived: string;
    try {
      derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return t.skip('ssh-keygen is not installed');
      throw error;
    }
    assert.equal(derived.split(' ').slice(0, 2).join(' '), node.hostKey);
  });

  test('two concurrent launches of the same nodes leave one instance per node', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    const request = { cluster: h.cluster, role: 'worker' as const, names: ['worker-1', 'worker-2'] };
    await Promise.all([h.provider.launchNodes(request), h.secondProvider().launchNodes(request)]);
    const live = await clusterInstances(h.ec2, h.cluster.clusterId, ['pending', 'running']);
    assert.deepEqual(live.map((instance) => instance.Tags?.find((tag) => tag.Key === 'tuneforge:node')?.Value).sort(), [
      'worker-1',
      'worker-2',
    ]);
    const listed = await h.provider.listNodes(h.cluster);
    assert.deepEqual(
      listed
        .filter((node) => node.state === 'running')
        .map((node) => node.name)
        .sort(),
      ['worker-1', 'worker-2'],
    );
  });

  test('a node whose instance died is relaunched under the same name; the dead one stays listed with its reason', async () => {
    const h = createHarness(moto, { market: 'spot' });
    await h.provider.bootstrap(h.cluster);
    const [first] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.ok(first);
    assert.equal(first.market, 'spot');
    await h.ec2.send(new TerminateInstancesCommand({ InstanceIds: [first.providerId] }));
    // moto models no spot reclaim; make its DescribeInstances say what EC2 says after one.
    h.faults.rewrites.push((command, output) => {
      if (command !== 'DescribeInstances' || !('Reservations' in output)) return;
      for (const instance of (output.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
        if (instance.InstanceId === first.providerId) instance.StateReason = { Code: 'Server.SpotInstanceTermination' };
      }
    });
    const dead = (await h.provider.listNodes(h.cluster)).find((node) => node.providerId === first.providerId);
    assert.equal(dead?.state, 'terminated');
    assert.equal(dead?.stateReason, 'Server.SpotInstanceTermination');

    const [second] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    assert.ok(second);
    assert.notEqual(second.providerId, first.providerId);
    assert.equal(second.hostKey, first.hostKey, 'a replacement keeps the pinned host key');
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ['pending', 'running'])).length, 1);
  });

  test('workers use workerMarket and the master placement; terminateNodes by name leaves the others', async () => {
    const h = createHarness(moto, { workerMarket: 'spot' });
    await h.provider.bootstrap(h.cluster);
    const [master] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    const [worker] = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1'] });
    assert.equal(master?.market, 'on-demand');
    assert.equal(worker?.market, 'spot');
    const instances = await clusterInstances(h.ec2, h.cluster.clusterId);
    assert.equal(new Set(instances.map((instance) => instance.Placement?.AvailabilityZone)).size, 1);

    await h.provider.terminateNodes(h.cluster, ['worker-1']);
    const states = (await h.provider.listNodes(h.cluster)).map((node) => `${node.name}:${node.state}`).sort();
    assert.deepEqual(states, ['master:running', 'worker-1:terminated']);
  });

  test('launching from a given image id uses it; a deregistered or unknown one is ImageNotFound', async () => {
    const h = createHarness(moto, { baseImage: { id: MOTO_UBUNTU_IMAGE_ID } });
    await h.provider.bootstrap(h.cluster);
    const image = { imageId: MOTO_UBUNTU_IMAGE_ID, fingerprint: 'base', createdAt: new Date().toISOString() };
    const [node] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'], image });
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId))[0]?.ImageId, MOTO_UBUNTU_IMAGE_ID);
    assert.ok(node);
    const missing = { ...image, imageId: 'ami-00000000000000000' };
    await assert.rejects(
      h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1'], image: missing }),
      (error) => failureType(error) === 'ImageNotFound',
    );
  });

  test('launchNodes before bootstrap is a clear PrerequisiteMissing', async () => {
    const h = createHarness(moto);
    await assert.rejects(
      h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] }),
      (error) => failureType(error) === 'PrerequisiteMissing',
    );
  });

  test('cleanup leaves no instance, group or key pair of the cluster, and is safe to repeat', async () => {
    const h = createHarness(moto);
    await h.provider.bootstrap(h.cluster);
    await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
    await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1'] });
    await h.provider.terminateNodes(h.cluster);
    assert.equal((await clusterInstances(h.ec2, h.cluster.clusterId, ALIVE)).length, 0);
    await h.provider.cleanup(h.cluster);
    assert.deepEqual(await clusterLeftovers(h.ec2, h.cluster.clusterId), { instances: 0, groups: 0, keyPairs: 0 });
    await h.provider.cleanup(h.cluster);
  });

  test('sshIdentity reads the private key; a missing one is SpecInvalid naming aws.privateKeyPath', async () => {
    const h = createHarness(moto);
    const identity = await h.provider.sshIdentity();
    assert.equal(identity.username, 'ubuntu');
    assert.deepEqual(identity.privateKey, readFileSync(h.key.privateKeyPath));
    const broken = createHarness(moto, { privateKeyPath: '/nonexistent/id_ed25519' });
    await assert.rejects(broken.provider.sshIdentity(), (error) => {
      assert.equal(failureType(error), 'SpecInvalid');
      assert.match((error as Error).message, /aws\.privateKeyPath: \/nonexistent\/id_ed25519 does not exist \(ENOENT\)/);
      return true;
    });
  });
});
