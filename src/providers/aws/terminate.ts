// Terminating a cluster's instances by tag and waiting (bounded) until they are gone.
import { TerminateInstancesCommand, waitUntilInstanceTerminated } from '@aws-sdk/client-ec2';
import { call, callIgnoringMissing, type AwsContext, sendOptions } from './context';
import { isEc2Error } from './errors';
import { describeClusterInstances, NOT_TERMINATED_STATES } from './instances';
import { INSTANCE_TERMINATED_MAX_WAIT_S, waiterOptions, waiterSucceeded } from './waits';

/** TerminateInstances fails as a whole when one id is unknown; then each id is retried alone. */
export async function terminateInstanceIds(ctx: AwsContext, instanceIds: string[]): Promise<void> {
  if (instanceIds.length === 0) return;
  try {
    await call(ctx, 'TerminateInstances', () =>
      ctx.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }), sendOptions(ctx)),
    );
  } catch (error) {
    if (!isEc2Error(error, 'not-found')) throw error;
    for (const instanceId of instanceIds) {
      await callIgnoringMissing(ctx, 'TerminateInstances', () =>
        ctx.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }), sendOptions(ctx)),
      );
    }
  }
}

/** Terminates the cluster's instances with these node names (all when omitted) and waits until they are gone. */
export async function terminateClusterNodes(ctx: AwsContext, clusterId: string, names?: string[]): Promise<void> {
  const query = { ...(names === undefined ? {} : { names }), states: NOT_TERMINATED_STATES };
  if (names !== undefined && names.length === 0) return;
  const instances = await describeClusterInstances(ctx, clusterId, query);
  const instanceIds = instances.flatMap((instance) => (instance.InstanceId === undefined ? [] : [instance.InstanceId]));
  if (instanceIds.length === 0) return;
  await terminateInstanceIds(ctx, instanceIds);
  await waiterSucceeded(
    (abortSignal) =>
      waitUntilInstanceTerminated(waiterOptions(ctx, INSTANCE_TERMINATED_MAX_WAIT_S, abortSignal), { InstanceIds: instanceIds }),
    ctx.signal,
  );
  // Also catches instances a racing launch created after the first read.
  const remaining = await describeClusterInstances(ctx, clusterId, query);
  if (remaining.length > 0) {
    const states = remaining.map((instance) => `${instance.InstanceId ?? '?'} ${instance.State?.Name ?? '?'}`).join(', ');
    throw new Error(`instances of cluster ${clusterId} not terminated yet: ${states}`);
  }
}
