// A Temporal worker for tuneforge's workflow and activities; used by the worker entrypoint and tests.
import { Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { TemporalUnreachable } from '../client/connection';
import { connectionOptions, type TemporalProfile } from '../common/temporal-profile';
import { bundleInChildProcess } from './workflow-bundle';

/**
 * A cancel reaches an activity only in the answer to one of its heartbeats, and heartbeats are throttled to
 * 0.8 x the heartbeat timeout (24 s) unless capped: 5 s, the rate keepAlive heartbeats at, lets a cancelled
 * launch stop (and the run's teardown start) within seconds.
 */
export const HEARTBEAT_THROTTLE = '5 seconds';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Optional overrides (e.g. a pre-built workflow bundle in tests). */
  workerOptions?: Partial<WorkerOptions>;
}

export async function createTuneforgeWorker(options: CreateWorkerOptions): Promise<Worker> {
  const given = options.workerOptions ?? {};
  const workflows = given.workflowBundle || given.workflowsPath ? {} : { workflowBundle: await bundleInChildProcess() };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflows,
    activities: createActivities(options.deps),
    shutdownGraceTime: '5 seconds',
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    ...options.workerOptions,
  });
}

/**
 * The worker's two connections to Temporal, with the profile's TLS and API key: the native one polls, the client
 * one starts schedules and checks the namespace. Either failing (no server, refused credentials) is TemporalUnreachable.
 */
export async function connectWorker(
  profile: TemporalProfile,
): Promise<{ connection: NativeConnection; clientConnection: Connection }> {
  const options = connectionOptions(profile);
  const [native, client] = await Promise.allSettled([NativeConnection.connect(options), Connection.connect(options)]);
  if (native.status === 'fulfilled' && client.status === 'fulfilled')
    return { connection: native.value, clientConnection: client.value };
  if (native.status === 'fulfilled') await native.value.close();
  if (client.status === 'fulfilled') await client.value.close();
  const failed = native.status === 'rejected' ? native : client;
  throw new TemporalUnreachable(profile, failed.status === 'rejected' ? failed.reason : undefined);
}
