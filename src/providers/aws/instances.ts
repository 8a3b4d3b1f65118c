// Reading a cluster's instances by tag and turning them into NodeRecords.
import { DescribeInstancesCommand, type Filter, type Instance, type InstanceStateName } from '@aws-sdk/client-ec2';
import type { NodeRecord, NodeRole, NodeState } from '../provider';
import { call, type AwsContext, sendOptions } from './context';
import { clusterFilter, readTag, TAG, tagFilter } from './tags';

export const SSH_USER = 'ubuntu';
const SSH_PORT = 22;

/** States of an instance that is, or is about to be, usable. */
export const LIVE_STATES: InstanceStateName[] = ['pending', 'running'];
/** Every state but terminated: what still costs money or holds the security group. */
export const NOT_TERMINATED_STATES: InstanceStateName[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

export interface InstanceQuery {
  names?: string[];
  states?: InstanceStateName[];
}

export async function describeClusterInstances(
  ctx: AwsContext,
  clusterId: string,
  query: InstanceQuery = {},
): Promise<Instance[]> {
  const filters: Filter[] = [clusterFilter(clusterId)];
  if (query.names !== undefined) filters.push(tagFilter(TAG.node, query.names));
  if (query.states !== undefined) filters.push({ Name: 'instance-state-name', Values: query.states });
  const instances: Instance[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(ctx, 'DescribeInstances', () =>
      ctx.ec2.send(new DescribeInstancesCommand({ Filters: filters, NextToken: nextToken }), sendOptions(ctx)),
    );
    for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined && nextToken !== '');
  return instances;
}

export function nodeNameOf(instance: Instance): string | undefined {
  return readTag(instance.Tags, TAG.node);
}

export function roleOf(instance: Instance): NodeRole | undefined {
  const role = readTag(instance.Tags, TAG.role);
  return role === 'master' || role === 'worker' ? role : undefined;
}

export function isLive(instance: Instance): boolean {
  return instance.State?.Name !== undefined && LIVE_STATES.includes(instance.State.Name);
}

/** Oldest first, instance id breaking ties: every caller picks the same survivor among duplicates. */
export function byLaunchOrder(a: Instance, b: Instance): number {
  const timeA = a.LaunchTime?.getTime() ?? 0;
  const timeB = b.LaunchTime?.getTime() ?? 0;
  if (timeA !== timeB) return timeA - timeB;
  return (a.InstanceId ?? '').localeCompare(b.InstanceId ?? '');
}

export function nodeState(state: InstanceStateName | undefined): NodeState {
  switch (state) {
    case 'pending':
    case 'running':
    case 'terminated':
      return state;
    case 'stopping':
    case 'stopped':
    case 'shutting-down':
      return 'stopping';
    default:
      return 'unknown';
  }
}

/** The record of one tagged instance; hostKey is the node's pinned public host key. */
export function toNodeRecord(instance: Instance, hostKey: string): NodeRecord | undefined {
  const name = nodeNameOf(instance);
  const role = roleOf(instance);
  if (name === undefined || role === undefined || instance.InstanceId === undefined) return undefined;
  const state = nodeState(instance.State?.Name);
  const reason = instance.StateReason?.Code;
  return {
    name,
    role,
    providerId: instance.InstanceId,
    address: instance.PublicIpAddress ?? instance.PrivateIpAddress ?? '',
    privateAddress: instance.PrivateIpAddress ?? '',
    sshPort: SSH_PORT,
    hostKey,
    state,
    ...(state !== 'running' && reason !== undefined && reason !== '' ? { stateReason: reason } : {}),
    instanceType: instance.InstanceType ?? 'unknown',
    market: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    launchedAt: (instance.LaunchTime ?? new Date(0)).toISOString(),
  };
}
