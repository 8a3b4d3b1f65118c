// Builds the activities' dependencies once per worker process.
import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import { createStoreOpener } from '../artifacts/open-store';
import { createAwsProvider } from '../providers/aws';
import { localArtifactsUri } from '../providers/local/lab';
import { createLocalProvider } from '../providers/local/local-provider';
import type { Provider } from '../providers/provider';
import { createRemoteShell } from '../remote/remote-shell';
import type { AwsSettings, RunSpec } from '../spec/schema';
import { trainingProgressSignal } from '../workflows/definitions';
import type { WorkerConfig } from './config';
import { buildReaperDeps, type ReaperConfig } from './reaper-schedule';

export function buildActivityDeps(config: WorkerConfig, client: Client, reaper: ReaperConfig): ActivityDeps {
  const local = createLocalProvider({ labRoot: config.localLabRoot, bootDelayMs: config.localBootDelayMs });
  const awsProviders = new Map<string, Provider>();
  const awsProvider = (settings: AwsSettings): Provider => {
    const key = JSON.stringify(settings);
    let provider = awsProviders.get(key);
    if (!provider) {
      provider = createAwsProvider(settings, { operatorCidr: config.operatorCidr });
      awsProviders.set(key, provider);
    }
    return provider;
  };
  return {
    providerFor: (spec: RunSpec): Provider => (spec.provider === 'local' ? local : awsProvider(spec.aws)),
    remote: createRemoteShell(),
    pollIntervalMs: config.pollIntervalMs,
    openStore: createStoreOpener(),
    localArtifactsUri: localArtifactsUri(config.localLabRoot),
    reaper: buildReaperDeps(client, { local, awsRegions: reaper.awsRegions }),
    reportProgress: async (workflowId, update) => {
      await client.workflow.getHandle(workflowId).signal(trainingProgressSignal, update);
    },
  };
}
