// Builds the activities' dependencies once per worker process.
import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import { createLocalProvider } from '../providers/local/local-provider';
import type { Provider } from '../providers/provider';
import { createRemoteShell } from '../remote/remote-shell';
import type { RunSpec } from '../spec/schema';
import { trainingProgressSignal } from '../workflows/definitions';
import { prerequisiteMissing } from '../common/errors';
import type { WorkerConfig } from './config';

export function buildActivityDeps(config: WorkerConfig, client: Client): ActivityDeps {
  const local = createLocalProvider({ labRoot: config.localLabRoot });
  const providerFor = (spec: RunSpec): Provider => {
    if (spec.provider === 'local') return local;
    throw prerequisiteMissing('this worker has no aws provider configured', 'Use provider: local.');
  };
  return {
    providerFor,
    remote: createRemoteShell(),
    pollIntervalMs: config.pollIntervalMs,
    reportProgress: async (workflowId, update) => {
      await client.workflow.getHandle(workflowId).signal(trainingProgressSignal, update);
    },
  };
}
