// Launching one node: the placements to try in order, capacity failover between them, and the
// deterministic client token that makes a repeated RunInstances return the first launch.
import { createHash } from 'node:crypto';
import { _InstanceType, RunInstancesCommand, type Instance, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { capacityUnavailable, clusterConflict, imageNotFound } from '../../common/errors';
import type { MarketPolicy } from '../../run-spec/schema';
import type { ClusterRef, Market, NodeRole } from '../provider';
import { call, type LaunchContext, sendOptions } from './context';
import { classifyEc2Error, ec2ErrorCode } from './errors';
import type { LaunchImage } from './images';
import { byLaunchOrder, isLive } from './instances';
import type { ZoneSubnet } from './network';
import { deriveHostKey } from './ssh-keys';
import { nodeTags, tagSpecification } from './tags';
import { quotaFailure } from './quotas';
import { hostKeyUserData } from './user-data';

export interface Placement {
  instanceType: _InstanceType;
  zone: ZoneSubnet;
}

export interface NodeLaunch {
  cluster: ClusterRef;
  role: NodeRole;
  name: string;
  market: Market;
  image: LaunchImage;
  securityGroupId: string;
  keyName: string;
  /** Secret the node's host key is derived from (the operator's private key file). */
  hostKeySecret: Buffer;
  /** Ids of earlier instances of this node that are gone or going: each generation gets its own token. */
  retiredInstanceIds: string[];
}

/** A repeated token that EC2 answers with an instance that has since died is replaced this often at most. */
const MAX_TOKEN_GENERATIONS = 4;

const KNOWN_INSTANCE_TYPES: ReadonlySet<string> = new Set(Object.values(_InstanceType));

/** Whether the pinned SDK knows the instance type (a typo such as "r7iz.metal16xl" is not). */
export function isKnownInstanceType(value: string): value is _InstanceType {
  return KNOWN_INSTANCE_TYPES.has(value);
}

export function placementLabel(placement: Placement): string {
  return `${placement.instanceType} in ${placement.zone.availabilityZone}`;
}

/**
 * Where to try launching: every zone of the first instance type, then every zone of the next type.
 * A cluster prefers one zone and one instance type (MPI between zones is slow and billed per GB), so
 * once a node lives its placement comes first, then its type in the other zones, then the rest. A
 * replacement for a reclaimed node still fails over: the zone that just lost it is the least likely
 * to have capacity, and a run that cannot replace its node loses more than cross-zone traffic costs.
 */
export function placementCandidates(instanceTypes: string[], zones: ZoneSubnet[], liveClusterInstances: Instance[]): Placement[] {
  const all = instanceTypes.filter(isKnownInstanceType).flatMap((instanceType) => zones.map((zone) => ({ instanceType, zone })));
  const anchor = [...liveClusterInstances].sort(byLaunchOrder)[0];
  const anchorZone = anchor?.Placement?.AvailabilityZone;
  if (anchor?.InstanceType === undefined || anchorZone === undefined || anchor.SubnetId === undefined) return all;
  return preferPlacement(
    { instanceType: anchor.InstanceType, zone: { availabilityZone: anchorZone, subnetId: anchor.SubnetId } },
    all,
  );
}

/** The same candidates with this placement first, then its instance type's other zones, then the rest in order. */
export function preferPlacement(first: Placement, candidates: Placement[]): Placement[] {
  const rest = candidates.filter((p) => placementLabel(p) !== placementLabel(first));
  const sameType = rest.filter((p) => p.instanceType === first.instanceType);
  return [first, ...sameType, ...rest.filter((p) => p.instanceType !== first.instanceType)];
}

/** Same node, placement, image and generation give the same token; anything else a new one. */
export function clientToken(launch: NodeLaunch, placement: Placement, retiredInstanceIds: string[]): string {
  const material = JSON.stringify([
    launch.cluster.clusterId,
    launch.cluster.runName,
    launch.name,
    placement.instanceType,
    placement.zone.availabilityZone,
    launch.image.imageId,
    launch.market,
    [...retiredInstanceIds].sort(),
  ]);
  return createHash('sha256').update(material).digest('hex'); // 64 characters, EC2's maximum
}

function runInput(ctx: LaunchContext, launch: NodeLaunch, placement: Placement, token: string): RunInstancesCommandInput {
  const tags = nodeTags(launch.cluster, launch.role, launch.name);
  return {
    ImageId: launch.image.imageId,
    InstanceType: placement.instanceType,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: token,
    KeyName: launch.keyName,
    SubnetId: placement.zone.subnetId,
    SecurityGroupIds: [launch.securityGroupId],
    UserData: hostKeyUserData(deriveHostKey(launch.hostKeySecret, launch.cluster.clusterId, launch.name)),
    BlockDeviceMappings: [
      {
        DeviceName: launch.image.rootDeviceName,
        Ebs: { VolumeSize: ctx.settings.rootVolumeGiB, VolumeType: 'gp3', DeleteOnTermination: true },
      },
    ],
    // A shutdown from inside the node ends it for good: no stopped instances left to pay for.
    InstanceInitiatedShutdownBehavior: 'terminate',
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
    ...(launch.market === 'spot'
      ? {
          InstanceMarketOptions: {
            MarketType: 'spot',
            SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
          },
        }
      : {}),
    TagSpecifications: [tagSpecification('instance', tags), tagSpecification('volume', tags)],
  };
}

async function runInstance(ctx: LaunchContext, launch: NodeLaunch, placement: Placement): Promise<void> {
  let retired = launch.retiredInstanceIds;
  for (let generation = 0; generation < MAX_TOKEN_GENERATIONS; generation += 1) {
    const token = clientToken(launch, placement, retired);
    const output = await call(ctx, 'RunInstances', () =>
      ctx.ec2.send(new RunInstancesCommand(runInput(ctx, launch, placement, token)), sendOptions(ctx)),
    );
    const instance = output.Instances?.[0];
    if (instance?.InstanceId === undefined) throw new Error(`RunInstances for ${launch.name} returned no instance`);
    if (isLive(instance) && !retired.includes(instance.InstanceId)) return;
    // EC2 replayed an earlier launch with this token whose instance has died since: next generation.
    retired = [...retired, instance.InstanceId];
  }
  throw new Error(`RunInstances for ${launch.name} kept returning terminated instances for fresh client tokens`);
}

function launchFailure(ctx: LaunchContext, error: unknown, launch: NodeLaunch, placement: Placement): unknown {
  const kind = classifyEc2Error(error);
  if (kind === 'quota') {
    return quotaFailure({
      code: ec2ErrorCode(error) ?? 'quota error',
      instanceType: placement.instanceType,
      market: launch.market,
      region: ctx.region,
      what: `launching ${launch.name} (${placement.instanceType}, ${launch.market})`,
    });
  }
  if (kind === 'image-missing') return imageNotFound(launch.image.imageId, `${ec2ErrorCode(error) ?? 'error'} from RunInstances`);
  if (kind === 'idempotency-mismatch') {
    return clusterConflict(`node ${launch.name} was launched earlier with different settings (IdempotentParameterMismatch)`);
  }
  return error;
}

export interface LaunchAttempt {
  placement: Placement;
  market: Market;
}

/**
 * The launches to try, in order. Each attempt after the first follows a capacity failure, so for
 * spot-then-on-demand "spot on the first N placements, then on-demand on all of them" is exactly
 * "on-demand after N spot capacity failures".
 */
export function launchAttempts(
  policy: MarketPolicy,
  placements: Placement[],
  spotFailuresBeforeOnDemand: number,
): LaunchAttempt[] {
  const on = (market: Market) => (placement: Placement) => ({ placement, market });
  if (policy !== 'spot-then-on-demand') return placements.map(on(policy));
  return [...placements.slice(0, spotFailuresBeforeOnDemand).map(on('spot')), ...placements.map(on('on-demand'))];
}

/** Launches the node at the first attempt with capacity; returns that attempt. */
export async function launchWithFailover(
  ctx: LaunchContext,
  launch: Omit<NodeLaunch, 'market'>,
  attempts: LaunchAttempt[],
): Promise<LaunchAttempt> {
  const tried: string[] = [];
  const codes: string[] = [];
  for (const attempt of attempts) {
    const withMarket: NodeLaunch = { ...launch, market: attempt.market };
    try {
      await runInstance(ctx, withMarket, attempt.placement);
      return attempt;
    } catch (error) {
      if (classifyEc2Error(error) !== 'capacity') throw launchFailure(ctx, error, withMarket, attempt.placement);
      tried.push(`${placementLabel(attempt.placement)} (${attempt.market})`);
      codes.push(ec2ErrorCode(error) ?? 'capacity error');
    }
  }
  throw capacityUnavailable(tried, `${[...new Set(codes)].join(', ')} launching ${launch.name}`);
}
