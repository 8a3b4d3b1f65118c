// Which clusters still own EC2 resources: the tag values on live instances, security groups, key pairs,
// and baked images and snapshots that their cleanup would remove (kept images belong to later runs).
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { call, type AwsContext, sendOptions } from './context';
import { DISPOSABLE_IMAGE_FILTER } from './images';
import { NOT_TERMINATED_STATES } from './instances';
import type { ClusterScope } from '../provider';
import { scopeFilters, TAG } from './tags';

export async function listClusterIds(ctx: AwsContext, scope?: ClusterScope): Promise<string[]> {
  const tagged = [{ Name: 'tag-key', Values: [TAG.cluster] }, ...scopeFilters(scope)];
  const [instances, groups, keyPairs, images, snapshots] = await Promise.all([
    call(ctx, 'DescribeInstances', () =>
      ctx.ec2.send(
        new DescribeInstancesCommand({ Filters: [...tagged, { Name: 'instance-state-name', Values: NOT_TERMINATED_STATES }] }),
        sendOptions(ctx),
      ),
    ),
    call(ctx, 'DescribeSecurityGroups', () =>
      ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tagged }), sendOptions(ctx)),
    ),
    call(ctx, 'DescribeKeyPairs', () => ctx.ec2.send(new DescribeKeyPairsCommand({ Filters: tagged }), sendOptions(ctx))),
    call(ctx, 'DescribeImages', () =>
      ctx.ec2.send(
        new DescribeImagesCommand({ Owners: ['self'], Filters: [...tagged, DISPOSABLE_IMAGE_FILTER] }),
        sendOptions(ctx),
      ),
    ),
    call(ctx, 'DescribeSnapshots', () =>
      ctx.ec2.send(
        new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [...tagged, DISPOSABLE_IMAGE_FILTER] }),
        sendOptions(ctx),
      ),
    ),
  ]);
  const tagSets: Array<Tag[] | undefined> = [
    ...(instances.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.Tags)),
    ...(groups.SecurityGroups ?? []).map((g) => g.Tags),
    ...(keyPairs.KeyPairs ?? []).map((k) => k.Tags),
    ...(images.Images ?? []).map((i) => i.Tags),
    ...(snapshots.Snapshots ?? []).map((s) => s.Tags),
  ];
  const ids = tagSets.map((tags) => tags?.find((t) => t.Key === TAG.cluster)?.Value).filter((v): v is string => v !== undefined);
  return [...new Set(ids)].sort();
}
