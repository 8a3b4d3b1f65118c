// A worker process for aws-provider runs against moto with local stand-in nodes. With a crash flag file,
// it kills itself right after EC2 accepts the first RunInstances of a worker node: the worst moment.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { createAwsProvider } from '../../src/providers/aws';
import { createRemoteShell } from '../../src/remote/remote-shell';
import type { AwsSettings } from '../../src/run-spec/schema';
import { createTuneforgeWorker } from '../../src/worker/create-worker';
import { ensureSearchAttributes } from '../../src/worker/search-attributes';
import { testLabProvider, TEST_ARTIFACTS_URI } from './local-lab';
import { createStoreOpener } from '../../src/artifacts/open-store';
import { mirroredProvider } from './mirrored-provider';
import { motoClientFactory, newFaults } from './moto';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

function crashAfterWorkerLaunch(client: EC2Client, flagFile: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = JSON.stringify(args.input);
      if (context.commandName === 'RunInstancesCommand' && input.includes('"worker"') && existsSync(flagFile)) {
        rmSync(flagFile);
        process.kill(process.pid, 'SIGKILL');
      }
      return result;
    },
    { step: 'initialize', name: 'crashAfterWorkerLaunch' },
  );
}

async function run(): Promise<void> {
  const settings = JSON.parse(readFileSync(env('TEST_AWS_SETTINGS'), 'utf8')) as AwsSettings;
  const flagFile = env('TEST_CRASH_FLAG');
  const motoFactory = motoClientFactory(env('MOTO_ENDPOINT'), env('TEST_MOTO_ACCOUNT'), newFaults());
  const aws = createAwsProvider(
    { region: settings.region },
    {
      createClient: (config) => {
        const client = motoFactory(config);
        crashAfterWorkerLaunch(client, flagFile);
        return client;
      },
    },
  );
  const provider = mirroredProvider(aws, testLabProvider);
  const address = env('TEMPORAL_ADDRESS');
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  await ensureSearchAttributes(clientConnection, 'default');
  const client = new Client({ connection: clientConnection });
  const worker = await createTuneforgeWorker({
    connection,
    namespace: 'default',
    taskQueue: env('TUNEFORGE_TASK_QUEUE'),
    deps: {
      providerFor: () => provider,
      remote: createRemoteShell(),
      pollIntervalMs: 500,
      openStore: createStoreOpener(),
      localArtifactsUri: TEST_ARTIFACTS_URI,
      reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
    },
  });
  console.log('worker polling task queue');
  await worker.run();
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
