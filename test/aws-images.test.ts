// Baking, finding and removing images by recipe fingerprint, against moto.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { imageName } from '../src/providers/aws/tags';
import type { NodeRecord } from '../src/providers/provider';
import {
  callsOf,
  clusterInstances,
  createHarness,
  motoUnavailableReason,
  startMoto,
  type MotoHarness,
  type MotoServer,
} from './helpers/moto';

async function imagesWithFingerprint(ec2: EC2Client, fingerprint: string): Promise<string[]> {
  const { Images: images = [] } = await ec2.send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:tuneforge:fingerprint', Values: [fingerprint] }] }),
  );
  return images.map((image) => image.ImageId ?? '');
}

async function snapshotsOfCluster(ec2: EC2Client, clusterId: string): Promise<string[]> {
  const { Snapshots: snapshots = [] } = await ec2.send(
    new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:tuneforge:cluster', Values: [clusterId] }] }),
  );
  return snapshots.map((snapshot) => snapshot.SnapshotId ?? '');
}

async function launchMaster(h: MotoHarness): Promise<NodeRecord> {
  await h.provider.bootstrap(h.cluster);
  const [master] = await h.provider.launchNodes({ cluster: h.cluster, role: 'master', names: ['master'] });
  assert.ok(master);
  return master;
}

describe('aws images on moto', { skip: motoUnavailableReason() }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  test('bakeImage creates a tagged image once; findImage and a second bake reuse it; workers launch from it', async () => {
    const h = createHarness(moto);
    const master = await launchMaster(h);
    const fingerprint = `fp-${h.cluster.clusterId}`;
    assert.equal(await h.provider.findImage(fingerprint), undefined);

    const baked = await h.provider.bakeImage(h.cluster, master, fingerprint);
    assert.equal(baked.fingerprint, fingerprint);
    assert.match(baked.imageId, /^ami-/);
    assert.doesNotThrow(() => new Date(baked.createdAt).toISOString());
    assert.deepEqual(await imagesWithFingerprint(h.ec2, fingerprint), [baked.imageId]);
    assert.ok((await snapshotsOfCluster(h.ec2, h.cluster.clusterId)).length > 0, 'snapshots are tagged with the cluster');

    assert.deepEqual(await h.provider.findImage(fingerprint), baked);
    assert.deepEqual(await h.provider.bakeImage(h.cluster, master, fingerprint), baked);
    assert.equal(callsOf(h.faults, 'CreateImage').length, 1);

    const [worker] = await h.provider.launchNodes({ cluster: h.cluster, role: 'worker', names: ['worker-1'], image: baked });
    const instance = (await clusterInstances(h.ec2, h.cluster.clusterId)).find(
      (candidate) => candidate.InstanceId === worker?.providerId,
    );
    assert.equal(instance?.ImageId, baked.imageId);
  });

  test('a CreateImage that says the name exists adopts the image of that name', async () => {
    const h = createHarness(moto);
    const master = await launchMaster(h);
    const fingerprint = `fp-dup-${h.cluster.clusterId}`;
    const earlier = await h.ec2.send(new CreateImageCommand({ InstanceId: master.providerId, Name: imageName(fingerprint) }));
    h.faults.rules.push({ command: 'CreateImage', code: 'InvalidAMIName.Duplicate', httpStatus: 400, times: 1 });
    const baked = await h.provider.bakeImage(h.cluster, master, fingerprint);
    assert.equal(baked.imageId, earlier.ImageId);
  });

  test('cleanup keeps the image with keepImage, and deregisters it with its snapshots without', async () => {
    const kept = createHarness(moto, { keepImage: true });
    const keptImage = await kept.provider.bakeImage(kept.cluster, await launchMaster(kept), `fp-keep-${kept.cluster.clusterId}`);
    await kept.provider.cleanup(kept.cluster);
    assert.deepEqual(await imagesWithFingerprint(kept.ec2, keptImage.fingerprint), [keptImage.imageId]);

    const dropped = createHarness(moto, { keepImage: false });
    const droppedImage = await dropped.provider.bakeImage(
      dropped.cluster,
      await launchMaster(dropped),
      `fp-drop-${dropped.cluster.clusterId}`,
    );
    await dropped.provider.cleanup(dropped.cluster);
    assert.deepEqual(await imagesWithFingerprint(dropped.ec2, droppedImage.fingerprint), []);
    assert.deepEqual(await snapshotsOfCluster(dropped.ec2, dropped.cluster.clusterId), []);
    assert.equal(await dropped.provider.findImage(droppedImage.fingerprint), undefined);
    await dropped.provider.cleanup(dropped.cluster);
  });
});
