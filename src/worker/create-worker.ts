// A Temporal worker for tuneforge's workflow and activities; used by the worker entrypoint and tests.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Optional overrides (e.g. a pre-built workflow bundle in tests). */
  workerOptions?: Partial<WorkerOptions>;
}

export function createTuneforgeWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities(options.deps),
    shutdownGraceTime: '5 seconds',
    ...options.workerOptions,
  });
}
