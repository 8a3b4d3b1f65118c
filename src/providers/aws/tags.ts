// Tag keys and resource names: every EC2 resource of a cluster is found by these, never by stored ids.
import type { Filter, ResourceType, Tag, TagSpecification } from '@aws-sdk/client-ec2';
import type { ClusterRef, ClusterScope, NodeRole } from '../provider';

export const TAG = {
  cluster: 'tuneforge:cluster',
  run: 'tuneforge:run',
  role: 'tuneforge:role',
  node: 'tuneforge:node',
  fingerprint: 'tuneforge:fingerprint',
  /** The launching worker's namespace and task queue: a reaper lists only its own (ClusterScope). */
  namespace: 'tuneforge:namespace',
  taskQueue: 'tuneforge:task-queue',
  /** On baked images and their snapshots: "false" when the run's cleanup (or a reaper) removes them. */
  keepImage: 'tuneforge:keep-image',
  /** Shown by the EC2 console. */
  name: 'Name',
} as const;

const NAME_PREFIX = 'tuneforge';

/** Name of a per-cluster resource (security group, key pair), optionally with a suffix. */
export function clusterResourceName(clusterId: string, suffix?: string): string {
  return suffix === undefined ? `${NAME_PREFIX}-${clusterId}` : `${NAME_PREFIX}-${clusterId}-${suffix}`;
}

/** AMI names allow letters, digits and ()[]./-'@_ only, 3 to 128 characters. */
export function imageName(fingerprint: string): string {
  return `${NAME_PREFIX}-${fingerprint.replace(/[^A-Za-z0-9()[\]./'@_-]/g, '-')}`.slice(0, 128);
}

export function clusterTags(cluster: ClusterRef): Tag[] {
  return [
    { Key: TAG.cluster, Value: cluster.clusterId },
    { Key: TAG.run, Value: cluster.runName },
    ...(cluster.scope
      ? [
          { Key: TAG.namespace, Value: cluster.scope.namespace },
          { Key: TAG.taskQueue, Value: cluster.scope.taskQueue },
        ]
      : []),
  ];
}

/** Filters for one scope's resources; none (every cluster) without a scope. */
export function scopeFilters(scope: ClusterScope | undefined): Filter[] {
  return scope ? [tagFilter(TAG.namespace, [scope.namespace]), tagFilter(TAG.taskQueue, [scope.taskQueue])] : [];
}

export function nodeTags(cluster: ClusterRef, role: NodeRole, nodeName: string): Tag[] {
  return [
    ...clusterTags(cluster),
    { Key: TAG.role, Value: role },
    { Key: TAG.node, Value: nodeName },
    { Key: TAG.name, Value: clusterResourceName(cluster.clusterId, nodeName) },
  ];
}

export function tagSpecification(resourceType: ResourceType, tags: Tag[]): TagSpecification {
  return { ResourceType: resourceType, Tags: tags };
}

export function tagFilter(key: string, values: string[]): Filter {
  return { Name: `tag:${key}`, Values: values };
}

export function clusterFilter(clusterId: string): Filter {
  return tagFilter(TAG.cluster, [clusterId]);
}

export function readTag(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}
