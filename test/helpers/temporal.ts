// Test access to the dev server that scripts/test.sh starts, and in-process workers on unique queues.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  DefaultLogger,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { DEFAULT_NAMESPACE } from '../../src/common/names';
import { ensureSearchAttributes } from '../../src/worker/search-attributes';
import { HEARTBEAT_THROTTLE } from '../../src/worker/create-worker';

export const TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/**
 * Installs the runtime with a logger that keeps every line the worker logs (activities, workflows, the SDK's
 * own, at DEBUG) in `into`: what a secrets test scans. Call before any worker starts; quietRuntime then keeps it.
 */
export function recordRuntimeLogs(into: string[]): void {
  if (runtimeInstalled) throw new Error('the runtime is installed already: record its logs before any worker starts');
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry) =>
      into.push(`${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 12 })}`),
    ),
    telemetryOptions: { logging: { filter: { core: 'INFO', other: 'INFO' }, forward: {} } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  quietRuntime();
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('ERROR') });
  return bundle;
}

export async function testClient(): Promise<{ client: Client; connection: Connection; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  return { client: new Client({ connection, namespace: DEFAULT_NAMESPACE }), connection, close: () => connection.close() };
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Runs fn while a worker with these activities polls a fresh task queue. */
export async function withWorker<T>(
  activities: object,
  fn: (env: { client: Client; taskQueue: string }) => Promise<T>,
): Promise<T> {
  quietRuntime();
  const taskQueue = uniqueId('test-queue');
  const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
  const { client, connection: clientConnection, close } = await testClient();
  try {
    await ensureSearchAttributes(clientConnection, DEFAULT_NAMESPACE);
    const worker = await Worker.create({
      connection,
      namespace: DEFAULT_NAMESPACE,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
      shutdownGraceTime: '2 seconds',
      maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    });
    return await worker.runUntil(fn({ client, taskQueue }));
  } finally {
    await close();
    await connection.close();
  }
}

export function realActivities(deps: ActivityDeps) {
  return createActivities(deps);
}
