// AMIs: resolving the image to launch, baking one per recipe fingerprint (reused when it exists),
// and deregistering a cluster's images with their snapshots.
import {
  CreateImageCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  waitUntilImageAvailable,
  type DescribeImagesCommandInput,
  type Image,
  type Tag,
} from '@aws-sdk/client-ec2';
import { imageNotFound } from '../../common/errors';
import type { ClusterRef, ImageRecord, NodeRecord } from '../provider';
import { call, callIgnoringMissing, type AwsContext, type LaunchContext, sendOptions } from './context';
import { isEc2Error } from './errors';
import { clusterFilter, clusterTags, imageName, tagFilter, TAG, tagSpecification } from './tags';
import { IMAGE_AVAILABLE_MAX_WAIT_S, waiterOptions, waiterSucceeded } from './waits';

export interface LaunchImage {
  imageId: string;
  rootDeviceName: string;
}

async function describeImages(ctx: AwsContext, input: DescribeImagesCommandInput, label: string): Promise<Image[]> {
  try {
    const { Images: images = [] } = await call(ctx, 'DescribeImages', () =>
      ctx.ec2.send(new DescribeImagesCommand(input), sendOptions(ctx)),
    );
    return images;
  } catch (error) {
    if (isEc2Error(error, 'image-missing')) throw imageNotFound(label, 'DescribeImages does not know it');
    throw error;
  }
}

function newest(images: Image[]): Image | undefined {
  return [...images].sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
}

function toLaunchImage(image: Image, label: string): LaunchImage {
  if (image.ImageId === undefined || image.RootDeviceName === undefined)
    throw imageNotFound(label, 'EC2 returned it without an id or root device');
  return { imageId: image.ImageId, rootDeviceName: image.RootDeviceName };
}

/** An existing, available image by id; ImageNotFound otherwise. */
export async function resolveImageById(ctx: AwsContext, imageId: string): Promise<LaunchImage> {
  const image = (await describeImages(ctx, { ImageIds: [imageId] }, imageId))[0];
  if (image === undefined) throw imageNotFound(imageId, 'it has been deregistered');
  if (image.State !== 'available') throw imageNotFound(imageId, `its state is ${image.State ?? 'unknown'}`);
  return toLaunchImage(image, imageId);
}

/** The spec's base image: by id, or the newest available image matching name and owner. */
export async function resolveBaseImage(ctx: LaunchContext): Promise<LaunchImage> {
  const base = ctx.settings.baseImage;
  if ('id' in base) return resolveImageById(ctx, base.id);
  const label = `${base.name} (owner ${base.owner})`;
  const images = await describeImages(
    ctx,
    {
      Owners: [base.owner],
      Filters: [
        { Name: 'name', Values: [base.name] },
        { Name: 'state', Values: ['available'] },
      ],
    },
    label,
  );
  const image = newest(images);
  if (image === undefined) throw imageNotFound(label, `no available image matches in ${ctx.region}`);
  return toLaunchImage(image, label);
}

function fingerprintImages(ctx: AwsContext, fingerprint: string, states: string[]): Promise<Image[]> {
  return describeImages(
    ctx,
    { Owners: ['self'], Filters: [tagFilter(TAG.fingerprint, [fingerprint]), { Name: 'state', Values: states }] },
    `fingerprint ${fingerprint}`,
  );
}

function toRecord(image: Image, fingerprint: string): ImageRecord {
  if (image.ImageId === undefined || image.CreationDate === undefined)
    throw new Error('EC2 returned an image without an id or creation date');
  return { imageId: image.ImageId, fingerprint, createdAt: image.CreationDate };
}

export async function findImageByFingerprint(ctx: AwsContext, fingerprint: string): Promise<ImageRecord | undefined> {
  const image = newest(await fingerprintImages(ctx, fingerprint, ['available']));
  return image === undefined ? undefined : toRecord(image, fingerprint);
}

/** What finds a baked image and its snapshots again: the cluster, the fingerprint and the keep policy. */
function bakedTags(cluster: ClusterRef, fingerprint: string, keepImage: boolean): Tag[] {
  return [
    ...clusterTags(cluster),
    { Key: TAG.fingerprint, Value: fingerprint },
    { Key: TAG.keepImage, Value: String(keepImage) },
  ];
}

async function createImage(
  ctx: AwsContext,
  cluster: ClusterRef,
  node: NodeRecord,
  fingerprint: string,
  keepImage: boolean,
): Promise<string> {
  const name = imageName(fingerprint);
  const tags = [...bakedTags(cluster, fingerprint, keepImage), { Key: TAG.name, Value: name }];
  try {
    const { ImageId: imageId } = await call(ctx, 'CreateImage', () =>
      ctx.ec2.send(
        new CreateImageCommand({
          InstanceId: node.providerId,
          Name: name,
          Description: `tuneforge image of ${node.name} for recipe fingerprint ${fingerprint}`,
          // The caller flushes the disk first; a reboot would break the node's running setup.
          NoReboot: true,
          TagSpecifications: [tagSpecification('image', tags)],
        }),
        sendOptions(ctx),
      ),
    );
    if (imageId !== undefined) return imageId;
  } catch (error) {
    if (!isEc2Error(error, 'duplicate')) throw error;
  }
  // An earlier attempt created it (image names are unique per account and region).
  const existing = newest(await describeImages(ctx, { Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }, name));
  if (existing?.ImageId === undefined) throw new Error(`CreateImage for ${name} returned no image id and none exists`);
  return existing.ImageId;
}

async function waitUntilAvailable(ctx: AwsContext, imageId: string): Promise<Image> {
  await waiterSucceeded(
    (abortSignal) =>
      waitUntilImageAvailable(waiterOptions(ctx, IMAGE_AVAILABLE_MAX_WAIT_S, abortSignal), { ImageIds: [imageId] }),
    ctx.signal,
  );
  const image = (await describeImages(ctx, { ImageIds: [imageId] }, imageId))[0];
  if (image?.State === 'available') return image;
  if (image?.State === 'failed') {
    await callIgnoringMissing(ctx, 'DeregisterImage', () =>
      ctx.ec2.send(new DeregisterImageCommand({ ImageId: imageId }), sendOptions(ctx)),
    );
  }
  throw new Error(`image ${imageId} is ${image?.State ?? 'gone'} after waiting up to ${IMAGE_AVAILABLE_MAX_WAIT_S} s`);
}

function snapshotIds(image: Image): string[] {
  return (image.BlockDeviceMappings ?? []).flatMap((mapping) =>
    mapping.Ebs?.SnapshotId === undefined ? [] : [mapping.Ebs.SnapshotId],
  );
}

/** Reuses an available or pending image with this fingerprint, else images the node; waits until available. */
export async function bakeImage(
  ctx: AwsContext,
  cluster: ClusterRef,
  node: NodeRecord,
  fingerprint: string,
  keepImage: boolean,
): Promise<ImageRecord> {
  const candidates = await fingerprintImages(ctx, fingerprint, ['available', 'pending']);
  const reusable = newest(candidates.filter((image) => image.State === 'available')) ?? newest(candidates);
  const imageId = reusable?.ImageId ?? (await createImage(ctx, cluster, node, fingerprint, keepImage));
  const image = await waitUntilAvailable(ctx, imageId);
  const snapshots = snapshotIds(image);
  if (snapshots.length > 0) {
    // CreateImage cannot tag snapshots atomically everywhere (moto rejects it); tag them once known,
    // so cleanup and reapers can find them by cluster.
    const tags = bakedTags(cluster, fingerprint, keepImage);
    await call(ctx, 'CreateTags', () =>
      ctx.ec2.send(new CreateTagsCommand({ Resources: snapshots, Tags: tags }), sendOptions(ctx)),
    );
  }
  return toRecord(image, fingerprint);
}

async function deleteSnapshots(ctx: AwsContext, snapshotIdsToDelete: string[]): Promise<void> {
  for (const snapshotId of snapshotIdsToDelete) {
    await callIgnoringMissing(ctx, 'DeleteSnapshot', () =>
      ctx.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }), sendOptions(ctx)),
    );
  }
}

/**
 * Images and snapshots baked by a run that did not ask to keep them (tagged keep-image=false). The tag,
 * not the caller's settings, decides: a reaper of a crashed run knows nothing of its spec. Images baked
 * before the tag existed carry none and are kept, as aws.keepImage defaulted.
 */
export const DISPOSABLE_IMAGE_FILTER = tagFilter(TAG.keepImage, ['false']);

/** Deregisters the images this cluster baked to throw away, with their snapshots (also ones left by an interrupted cleanup). */
export async function deleteClusterImages(ctx: AwsContext, clusterId: string): Promise<void> {
  const images = await describeImages(
    ctx,
    { Owners: ['self'], Filters: [clusterFilter(clusterId), DISPOSABLE_IMAGE_FILTER] },
    `images of ${clusterId}`,
  );
  for (const image of images) {
    const imageId = image.ImageId;
    if (imageId === undefined) continue;
    try {
      await call(ctx, 'DeregisterImage', () => ctx.ec2.send(new DeregisterImageCommand({ ImageId: imageId }), sendOptions(ctx)));
    } catch (error) {
      if (!isEc2Error(error, 'image-missing', 'not-found')) throw error;
    }
    await deleteSnapshots(ctx, snapshotIds(image));
  }
  const { Snapshots: leftovers = [] } = await call(ctx, 'DescribeSnapshots', () =>
    ctx.ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [clusterFilter(clusterId), DISPOSABLE_IMAGE_FILTER] }),
      sendOptions(ctx),
    ),
  );
  await deleteSnapshots(
    ctx,
    leftovers.flatMap((snapshot) => (snapshot.SnapshotId === undefined ? [] : [snapshot.SnapshotId])),
  );
}
