// Which clusters still own EC2 resources: the tag values on live instances, security groups and key pairs.
import { DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, type Tag } from '@aws-sdk/client-ec2';
import { call, type AwsContext } from './context';
import { NOT_TERMINATED_STATES } from './instances';
import { TAG } from './tags';

export async function listClusterIds(ctx: AwsContext): Promise<string[]> {
  const tagged = [{ Name: 'tag-key', Values: [TAG.cluster] }];
  const [instances, groups, keyPairs] = await Promise.all([
    call(ctx, 'DescribeInstances', () =>
      ctx.ec2.send(
        new DescribeInstancesCommand({ Filters: [...tagged, { Name: 'instance-state-name', Values: NOT_TERMINATED_STATES }] }),
      ),
    ),
    call(ctx, 'DescribeSecurityGroups', () => ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tagged }))),
    call(ctx, 'DescribeKeyPairs', () => ctx.ec2.send(new DescribeKeyPairsCommand({ Filters: tagged }))),
  ]);
  const tagSets: Array<Tag[] | undefined> = [
    ...(instances.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.Tags)),
    ...(groups.SecurityGroups ?? []).map((g) => g.Tags),
    ...(keyPairs.KeyPairs ?? []).map((k) => k.Tags),
  ];
  const ids = tagSets.map((tags) => tags?.find((t) => t.Key === TAG.cluster)?.Value).filter((v): v is string => v !== undefined);
  return [...new Set(ids)].sort();
}
