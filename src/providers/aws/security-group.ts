// The cluster's security group, reconciled by tag: all traffic between its members, SSH (22) from
// one operator CIDR, nothing else. Rules found beyond that are revoked.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { clusterConflict } from '../../common/errors';
import type { ClusterRef } from '../provider';
import { call, callIgnoringMissing, type AwsContext, sendOptions } from './context';
import { isEc2Error } from './errors';
import { withRetry, type RetryPolicy } from './retry';
import { clusterFilter, clusterResourceName, clusterTags, readTag, TAG, tagSpecification } from './tags';

const SSH_PORT = 22;

/** Instances shutting down keep the group in use for a few minutes: wait up to about 8 minutes. */
const DELETE_GROUP_RETRY: RetryPolicy = { maxAttempts: 30, baseDelayMs: 2_000, maxDelayMs: 20_000, retryOn: ['dependency'] };

async function describeGroups(ctx: AwsContext, filters: Filter[]): Promise<SecurityGroup[]> {
  const { SecurityGroups: groups = [] } = await call(ctx, 'DescribeSecurityGroups', () =>
    ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }), sendOptions(ctx)),
  );
  return groups;
}

export async function findClusterSecurityGroup(ctx: AwsContext, clusterId: string): Promise<SecurityGroup | undefined> {
  return (await describeGroups(ctx, [clusterFilter(clusterId)]))[0];
}

/** The ranges the cluster's group lets reach SSH (port 22), as EC2 holds them now. */
export async function clusterSshCidrs(ctx: AwsContext, clusterId: string): Promise<string[]> {
  const group = await findClusterSecurityGroup(ctx, clusterId);
  return (group?.IpPermissions ?? [])
    .filter((p) => p.IpProtocol === 'tcp' && (p.FromPort ?? -1) <= SSH_PORT && (p.ToPort ?? -1) >= SSH_PORT)
    .flatMap((p) => (p.IpRanges ?? []).flatMap((r) => r.CidrIp ?? []));
}

/** One rule per source, keyed so that equal rules compare equal whatever way EC2 grouped them. */
function flattenRules(permissions: IpPermission[]): Map<string, IpPermission> {
  const rules = new Map<string, IpPermission>();
  for (const permission of permissions) {
    const allTraffic = permission.IpProtocol === '-1';
    const base: IpPermission = allTraffic
      ? { IpProtocol: '-1' }
      : { IpProtocol: permission.IpProtocol, FromPort: permission.FromPort, ToPort: permission.ToPort };
    const head = `${base.IpProtocol}:${base.FromPort ?? ''}:${base.ToPort ?? ''}`;
    for (const { CidrIp } of permission.IpRanges ?? []) rules.set(`${head}:cidr:${CidrIp}`, { ...base, IpRanges: [{ CidrIp }] });
    for (const { CidrIpv6 } of permission.Ipv6Ranges ?? [])
      rules.set(`${head}:cidr6:${CidrIpv6}`, { ...base, Ipv6Ranges: [{ CidrIpv6 }] });
    for (const { GroupId } of permission.UserIdGroupPairs ?? [])
      rules.set(`${head}:group:${GroupId}`, { ...base, UserIdGroupPairs: [{ GroupId }] });
    for (const { PrefixListId } of permission.PrefixListIds ?? [])
      rules.set(`${head}:prefix:${PrefixListId}`, { ...base, PrefixListIds: [{ PrefixListId }] });
  }
  return rules;
}

export function desiredIngress(groupId: string, sshCidr: string): IpPermission[] {
  return [
    { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] },
    { IpProtocol: 'tcp', FromPort: SSH_PORT, ToPort: SSH_PORT, IpRanges: [{ CidrIp: sshCidr }] },
  ];
}

async function createGroup(ctx: AwsContext, cluster: ClusterRef, vpcId: string): Promise<SecurityGroup> {
  const groupName = clusterResourceName(cluster.clusterId);
  try {
    const { GroupId: groupId } = await call(ctx, 'CreateSecurityGroup', () =>
      ctx.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: groupName,
          Description: `tuneforge cluster ${cluster.clusterId}`,
          VpcId: vpcId,
          TagSpecifications: [tagSpecification('security-group', clusterTags(cluster))],
        }),
        sendOptions(ctx),
      ),
    );
    return { GroupId: groupId, GroupName: groupName, IpPermissions: [] };
  } catch (error) {
    if (!isEc2Error(error, 'duplicate')) throw error;
  }
  // A concurrent bootstrap created it first: adopt it only if it carries this cluster's tag.
  const [existing] = await describeGroups(ctx, [
    { Name: 'group-name', Values: [groupName] },
    { Name: 'vpc-id', Values: [vpcId] },
  ]);
  if (existing === undefined || readTag(existing.Tags, TAG.cluster) !== cluster.clusterId) {
    throw clusterConflict(`security group ${groupName} exists in ${vpcId} but is not tagged for cluster ${cluster.clusterId}`);
  }
  return existing;
}

async function reconcileIngress(ctx: AwsContext, group: SecurityGroup, groupId: string, sshCidr: string): Promise<void> {
  const current = flattenRules(group.IpPermissions ?? []);
  const desired = flattenRules(desiredIngress(groupId, sshCidr));
  const extra = [...current].filter(([key]) => !desired.has(key)).map(([, rule]) => rule);
  const missing = [...desired].filter(([key]) => !current.has(key)).map(([, rule]) => rule);
  if (extra.length > 0) {
    await callIgnoringMissing(ctx, 'RevokeSecurityGroupIngress', () =>
      ctx.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: extra }), sendOptions(ctx)),
    );
  }
  for (const rule of missing) {
    try {
      await call(ctx, 'AuthorizeSecurityGroupIngress', () =>
        ctx.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [rule] }), sendOptions(ctx)),
      );
    } catch (error) {
      if (!isEc2Error(error, 'duplicate')) throw error;
    }
  }
}

/** Creates or adopts the cluster's group and makes its ingress rules exactly the desired ones; returns its id. */
export async function ensureSecurityGroup(ctx: AwsContext, cluster: ClusterRef, vpcId: string, sshCidr: string): Promise<string> {
  const group = (await findClusterSecurityGroup(ctx, cluster.clusterId)) ?? (await createGroup(ctx, cluster, vpcId));
  const groupId = group.GroupId;
  if (groupId === undefined) throw new Error(`EC2 returned security group ${group.GroupName ?? '?'} without an id`);
  await reconcileIngress(ctx, group, groupId, sshCidr);
  return groupId;
}

/** Deletes every group tagged for the cluster, waiting (bounded) while instances still use them. */
export async function deleteClusterSecurityGroups(ctx: AwsContext, clusterId: string): Promise<void> {
  for (const group of await describeGroups(ctx, [clusterFilter(clusterId)])) {
    const groupId = group.GroupId;
    if (groupId === undefined) continue;
    await withRetry(
      () =>
        callIgnoringMissing(ctx, 'DeleteSecurityGroup', () =>
          ctx.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }), sendOptions(ctx)),
        ),
      DELETE_GROUP_RETRY,
      ctx.retry,
    );
  }
}
