// launchNodes: reconcile the named nodes of a cluster by tag. Adopt live ones, launch only the
// shortfall, remove duplicates a concurrent launch may have made, wait until all run.
import { waitUntilInstanceRunning, type Instance } from '@aws-sdk/client-ec2';
import { capacityUnavailable, clusterConflict, prerequisiteMissing } from '../../common/errors';
import type { ClusterRef, LaunchRequest, NodeRecord, NodeRole } from '../provider';
import type { AwsContext, LaunchContext } from './context';
import { resolveBaseImage, resolveImageById, type LaunchImage } from './images';
import { byLaunchOrder, describeClusterInstances, isLive, LIVE_STATES, nodeNameOf, roleOf, toNodeRecord } from './instances';
import { keyPairExists, keyPairName } from './key-pair';
import { zoneSubnets } from './network';
import { readPublicKey } from './operator-key';
import {
  launchAttempts,
  launchWithFailover,
  placementCandidates,
  preferPlacement,
  type NodeLaunch,
  type Placement,
} from './run-instance';
import type { MarketPolicy } from '../../run-spec/schema';
import { findClusterSecurityGroup } from './security-group';
import { deriveHostKey } from './ssh-keys';
import { terminateInstanceIds } from './terminate';
import { longestBootWait } from '../../cluster/boot-times';
import { waiterOptions, waiterSucceeded } from './waits';

interface ClusterResources {
  securityGroupId: string;
  vpcId: string;
  keyName: string;
}

interface LaunchPlan {
  missing: string[];
  /** Per missing node, ids of its earlier instances (gone or going). */
  retired: Map<string, string[]>;
  /** Stopped instances of requested nodes: not adoptable, terminated before relaunching. */
  toTerminate: string[];
}

function instanceIdsOf(instances: Iterable<Instance>): string[] {
  return [...instances].flatMap((instance) => (instance.InstanceId === undefined ? [] : [instance.InstanceId]));
}

function marketFor(ctx: LaunchContext, role: NodeRole): MarketPolicy {
  return role === 'master' ? ctx.settings.market : (ctx.settings.workerMarket ?? ctx.settings.market);
}

async function findClusterResources(ctx: LaunchContext, cluster: ClusterRef, privateKey: Buffer): Promise<ClusterResources> {
  const group = await findClusterSecurityGroup(ctx, cluster.clusterId);
  const keyName = keyPairName(cluster.clusterId, await readPublicKey(ctx.settings, privateKey));
  if (group?.GroupId === undefined || group.VpcId === undefined || !(await keyPairExists(ctx, keyName))) {
    throw prerequisiteMissing(
      `cluster ${cluster.clusterId} has no security group or key pair`,
      'run bootstrap before launchNodes',
    );
  }
  return { securityGroupId: group.GroupId, vpcId: group.VpcId, keyName };
}

function planLaunch(clusterInstances: Instance[], names: string[], role: NodeRole): LaunchPlan {
  const plan: LaunchPlan = { missing: [], retired: new Map(), toTerminate: [] };
  for (const name of names) {
    const mine = clusterInstances.filter((instance) => nodeNameOf(instance) === name);
    const live = mine.filter(isLive);
    const conflicting = live.find((instance) => roleOf(instance) !== role);
    if (conflicting !== undefined) {
      throw clusterConflict(`node ${name} already exists as ${roleOf(conflicting) ?? 'an untagged role'}, not as ${role}`);
    }
    if (live.length > 0) continue;
    plan.missing.push(name);
    plan.retired.set(name, instanceIdsOf(mine));
    for (const instance of mine) {
      const state = instance.State?.Name;
      if ((state === 'stopped' || state === 'stopping') && instance.InstanceId !== undefined)
        plan.toTerminate.push(instance.InstanceId);
    }
  }
  return plan;
}

/** Survivor per node name among live instances: the oldest (see byLaunchOrder). */
function survivors(instances: Instance[]): Map<string, Instance> {
  const byName = new Map<string, Instance>();
  for (const instance of [...instances].sort(byLaunchOrder)) {
    const name = nodeNameOf(instance);
    if (name !== undefined && isLive(instance) && !byName.has(name)) byName.set(name, instance);
  }
  return byName;
}

/**
 * EC2 dedupes concurrent launches of one node by client token; emulators and expired tokens do not.
 * Any duplicates found now are terminated, keeping the oldest, so concurrent callers converge.
 */
async function removeDuplicates(ctx: AwsContext, clusterId: string, names: string[]): Promise<void> {
  const live = await describeClusterInstances(ctx, clusterId, { names, states: LIVE_STATES });
  const keep = new Set(instanceIdsOf(survivors(live).values()));
  await terminateInstanceIds(
    ctx,
    instanceIdsOf(live).filter((instanceId) => !keep.has(instanceId)),
  );
}

/** Why a node has no live instance: the state reason of its newest instance (e.g. a spot reclaim at launch). */
function lostReason(instances: Instance[], name: string): string {
  const newest = instances
    .filter((instance) => nodeNameOf(instance) === name)
    .sort(byLaunchOrder)
    .pop();
  return `${name} ${newest?.State?.Name ?? 'gone'}${newest?.StateReason?.Code ? ` (${newest.StateReason.Code})` : ''}`;
}

async function waitForNodes(ctx: AwsContext, cluster: ClusterRef, names: string[], privateKey: Buffer): Promise<NodeRecord[]> {
  const launched = survivors(await describeClusterInstances(ctx, cluster.clusterId, { names, states: LIVE_STATES }));
  const instanceIds = instanceIdsOf(launched.values());
  const runningWaitS =
    longestBootWait([...launched.values()].map((i) => ({ instanceType: i.InstanceType ?? '' }))).runningMs / 1000;
  if (instanceIds.length > 0) {
    await waiterSucceeded(
      (abortSignal) => waitUntilInstanceRunning(waiterOptions(ctx, runningWaitS, abortSignal), { InstanceIds: instanceIds }),
      ctx.signal,
    );
  }
  const all = await describeClusterInstances(ctx, cluster.clusterId, { names });
  const current = survivors(all);
  const lost = names.filter((name) => !current.has(name));
  if (lost.length > 0) {
    throw capacityUnavailable([], `node(s) ended right after launch: ${lost.map((name) => lostReason(all, name)).join(', ')}`);
  }
  const records = names.flatMap((name) => {
    const instance = current.get(name);
    const record = instance && toNodeRecord(instance, deriveHostKey(privateKey, cluster.clusterId, name).publicKey);
    return record === undefined ? [] : [record];
  });
  const notRunning = records.filter((record) => record.state !== 'running');
  if (notRunning.length > 0) {
    throw new Error(`node(s) ${notRunning.map((record) => record.name).join(', ')} not running after ${runningWaitS} s`);
  }
  return records;
}

async function placementsFor(ctx: LaunchContext, vpcId: string, clusterInstances: Instance[]): Promise<Placement[]> {
  return placementCandidates(ctx.settings.instanceTypes, await zoneSubnets(ctx, vpcId), clusterInstances.filter(isLive));
}

/** Launches the plan's missing nodes one by one; where the first finds capacity is where the rest try first. */
async function launchMissing(
  ctx: LaunchContext,
  request: LaunchRequest,
  plan: LaunchPlan,
  clusterInstances: Instance[],
  privateKey: Buffer,
): Promise<void> {
  const resources = await findClusterResources(ctx, request.cluster, privateKey);
  const image: LaunchImage =
    request.image === undefined ? await resolveBaseImage(ctx) : await resolveImageById(ctx, request.image.imageId);
  let placements = await placementsFor(ctx, resources.vpcId, clusterInstances);
  let policy = marketFor(ctx, request.role);
  for (const name of plan.missing) {
    const launch: Omit<NodeLaunch, 'market'> = {
      cluster: request.cluster,
      role: request.role,
      name,
      image,
      securityGroupId: resources.securityGroupId,
      keyName: resources.keyName,
      hostKeySecret: privateKey,
      retiredInstanceIds: plan.retired.get(name) ?? [],
    };
    const landed = await launchWithFailover(
      ctx,
      launch,
      launchAttempts(policy, placements, ctx.settings.spotFailuresBeforeOnDemand),
    );
    placements = preferPlacement(landed.placement, placements);
    // Spot ran dry for this node: its siblings go straight to on-demand instead of failing N times each.
    if (policy === 'spot-then-on-demand' && landed.market === 'on-demand') policy = 'on-demand';
  }
}

export async function launchNodes(ctx: LaunchContext, request: LaunchRequest, privateKey: Buffer): Promise<NodeRecord[]> {
  const names = [...new Set(request.names)];
  if (names.length === 0) return [];
  const clusterId = request.cluster.clusterId;
  const clusterInstances = await describeClusterInstances(ctx, clusterId);
  const plan = planLaunch(clusterInstances, names, request.role);
  await terminateInstanceIds(ctx, plan.toTerminate);
  if (plan.missing.length > 0) await launchMissing(ctx, request, plan, clusterInstances, privateKey);
  await removeDuplicates(ctx, clusterId, names);
  return waitForNodes(ctx, request.cluster, names, privateKey);
}
