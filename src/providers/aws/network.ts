// The default VPC and its default subnet in each zone: where tuneforge places clusters.
import { DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { prerequisiteMissing } from '../../common/errors';
import { call, type AwsContext, type LaunchContext, sendOptions } from './context';

export interface ZoneSubnet {
  availabilityZone: string;
  subnetId: string;
}

export async function findDefaultVpcId(ctx: AwsContext): Promise<string> {
  const { Vpcs: vpcs = [] } = await call(ctx, 'DescribeVpcs', () =>
    ctx.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }), sendOptions(ctx)),
  );
  const vpcId = vpcs[0]?.VpcId;
  if (vpcId === undefined) {
    throw prerequisiteMissing(
      `region ${ctx.region} has no default VPC`,
      `create one with "aws ec2 create-default-vpc --region ${ctx.region}"`,
    );
  }
  return vpcId;
}

/**
 * Default subnets of the VPC in the zones to try, in order: the spec's availabilityZones, or every
 * zone with a default subnet (sorted) when the spec names none.
 */
export async function zoneSubnets(ctx: LaunchContext, vpcId: string): Promise<ZoneSubnet[]> {
  const wanted = ctx.settings.availabilityZones;
  const filters = [
    { Name: 'vpc-id', Values: [vpcId] },
    { Name: 'default-for-az', Values: ['true'] },
    ...(wanted.length > 0 ? [{ Name: 'availability-zone', Values: wanted }] : []),
  ];
  const { Subnets: subnets = [] } = await call(ctx, 'DescribeSubnets', () =>
    ctx.ec2.send(new DescribeSubnetsCommand({ Filters: filters }), sendOptions(ctx)),
  );
  const byZone = new Map<string, string>();
  for (const subnet of subnets) {
    if (subnet.AvailabilityZone !== undefined && subnet.SubnetId !== undefined)
      byZone.set(subnet.AvailabilityZone, subnet.SubnetId);
  }
  const zones = wanted.length > 0 ? wanted : [...byZone.keys()].sort();
  const found = zones.flatMap((zone) => {
    const subnetId = byZone.get(zone);
    return subnetId === undefined ? [] : [{ availabilityZone: zone, subnetId }];
  });
  if (found.length < zones.length || zones.length === 0) {
    const missing = zones.filter((zone) => !byZone.has(zone));
    throw prerequisiteMissing(
      `no default subnet in zone(s) ${missing.join(', ') || '(any)'} of the default VPC ${vpcId}`,
      'create default subnets ("aws ec2 create-default-subnet --availability-zone ZONE") or change aws.availabilityZones',
    );
  }
  return found;
}
