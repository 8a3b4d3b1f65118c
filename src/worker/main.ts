// Worker entrypoint: load config, build deps, run until SIGINT/SIGTERM.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { readWorkerConfig } from './config';
import { createTuneforgeWorker } from './create-worker';
import { buildActivityDeps } from './deps';
import { ensureSearchAttributes } from './search-attributes';

async function run(): Promise<void> {
  const config = readWorkerConfig();
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const clientConnection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: config.namespace });
  try {
    await ensureSearchAttributes(clientConnection, config.namespace);
    const worker = await createTuneforgeWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      deps: buildActivityDeps(config, client),
    });
    console.log(`tuneforge worker polling task queue "${config.taskQueue}" on ${config.temporalAddress}`);
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
