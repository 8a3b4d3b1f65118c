// Cluster ids: the run's workflow id, made safe for resource names and tags. Pure (the workflow uses it).
export const CLUSTER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;
/** What a Schedule appends to its workflow id prefix: `-` and the scheduled time in RFC 3339 (`-2026-11-26T14:00:00Z`). */
const SCHEDULED_SUFFIX = /-(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const STAMPED_SUFFIX = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/;

/** The workflow id, with a Schedule's time suffix rewritten as `-20261126-140000`. */
export function clusterIdOf(workflowId: string): string {
  return workflowId.replace(SCHEDULED_SUFFIX, '-$1$2$3-$4$5$6');
}

/** Every workflow id whose cluster id this is: itself, and the scheduled form when it has a time stamp. */
export function workflowIdsOfCluster(clusterId: string): string[] {
  const scheduled = clusterId.replace(STAMPED_SUFFIX, '-$1-$2-$3T$4:$5:$6Z');
  return scheduled === clusterId ? [clusterId] : [clusterId, scheduled];
}
