// Worker entrypoint: load config, build deps, run until SIGINT/SIGTERM.
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { dataConverterFor } from '../codec/encryption-codec';
import { describeKeys, loadCodecKeys } from '../codec/keys';
import { redactingLogger } from '../codec/redacting-logger';
import { TemporalUnreachable } from '../client/connection';
import { readWorkerConfig, WorkerConfigInvalid } from './config';
import { describeProfile } from '../common/temporal-profile';
import { connectWorker, createTuneforgeWorker } from './create-worker';
import { buildActivityDeps } from './deps';
import { ensureReaperSchedule, readReaperConfig, reaperScheduleId } from './reaper-schedule';
import { checkSearchAttributes, SearchAttributesMissing } from './search-attributes';

async function run(): Promise<void> {
  const config = readWorkerConfig();
  const reaper = readReaperConfig();
  const keys = loadCodecKeys();
  const dataConverter = dataConverterFor(keys);
  // The SDK logs failures with their messages; with encryption on, those may hold what the codec hides.
  if (keys) Runtime.install({ logger: redactingLogger(new DefaultLogger('INFO')) });
  const { connection, clientConnection } = await connectWorker(config.temporal);
  const client = new Client({ connection: clientConnection, namespace: config.namespace, dataConverter });
  let releaseConnections = (): void => undefined;
  try {
    await checkSearchAttributes(clientConnection, config.namespace);
    const deps = buildActivityDeps(config, client, reaper);
    releaseConnections = () => deps.remote.release?.();
    const worker = await createTuneforgeWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      deps,
      workerOptions: dataConverter ? { dataConverter } : {},
    });
    console.log(`tuneforge worker polling task queue "${config.taskQueue}" on ${describeProfile(config.temporal)}`);
    console.log(`payload encryption: ${keys ? describeKeys(keys) : 'off'}`);
    if (reaper.scheduled) {
      const outcome = await ensureReaperSchedule(client, config.taskQueue);
      console.log(`reaper schedule "${reaperScheduleId(config.taskQueue)}": ${outcome}`);
    }
    await worker.run();
  } finally {
    releaseConnections();
    await connection.close();
    await clientConnection.close();
  }
}

run().catch((err: unknown) => {
  if (err instanceof TemporalUnreachable || err instanceof WorkerConfigInvalid || err instanceof SearchAttributesMissing) {
    console.error(`tuneforge worker: ${err.message}`);
    process.exit(err instanceof TemporalUnreachable ? 3 : 2);
  }
  console.error(err);
  process.exit(1);
});
