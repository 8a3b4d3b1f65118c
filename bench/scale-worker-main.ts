// The scale bench's worker process: tuneforge's real worker (createTuneforgeWorker: the fineTune workflow
// and every activity) on instant nodes and no-op commands (lib/instant-deps.ts). Like
// test/helpers/aws-worker-main.ts, but with the bench's dependencies. Its peak RSS is what the row reports.
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createStoreOpener } from '../src/artifacts/open-store';
import { createTuneforgeWorker } from '../src/worker/create-worker';
import { ensureSearchAttributes } from '../src/worker/search-attributes';
import { trainingProgressSignal } from '../src/workflows/definitions';
import { createInstantProvider, createInstantRemoteShell } from './lib/instant-deps';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function run(): Promise<void> {
  const address = env('TEMPORAL_ADDRESS');
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const identity = {
    username: 'ubuntu',
    privateKey: readFileSync(env('BENCH_IDENTITY_FILE')),
    keyPath: env('BENCH_IDENTITY_FILE'),
  };
  const provider = createInstantProvider(
    { host: env('BENCH_PROBE_HOST'), port: Number(env('BENCH_PROBE_PORT')), hostKey: env('BENCH_PROBE_HOST_KEY') },
    identity,
  );
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  await ensureSearchAttributes(clientConnection, namespace);
  const client = new Client({ connection: clientConnection, namespace });
  // Diagnostics only (never set by npm run bench): override the worker's workflow cache size.
  const maxCached = process.env.BENCH_SCALE_MAX_CACHED;
  const worker = await createTuneforgeWorker({
    ...(maxCached ? { workerOptions: { maxCachedWorkflows: Number(maxCached) } } : {}),
    connection,
    namespace,
    taskQueue: env('TUNEFORGE_TASK_QUEUE'),
    deps: {
      providerFor: () => provider,
      remote: createInstantRemoteShell(env('BENCH_CLUSTER_PUBLIC_KEY')),
      pollIntervalMs: Number(process.env.TUNEFORGE_POLL_MS ?? '100'),
      openStore: createStoreOpener(),
      localArtifactsUri: `file://${env('BENCH_ARTIFACTS')}`,
      // As production: progress goes to the run as a signal.
      reportProgress: async (workflowId, update) => {
        await client.workflow.getHandle(workflowId).signal(trainingProgressSignal, update);
      },
    },
  });
  console.log('scale worker polling task queue');
  // Where the memory goes (V8 heap, native, buffers), in the worker's log (artifacts/bench-logs/scale-worker.log).
  setInterval(() => console.log(`memory ${JSON.stringify(process.memoryUsage())}`), 2000).unref();
  try {
    await worker.run();
  } finally {
    await connection.close();
    await clientConnection.close();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
