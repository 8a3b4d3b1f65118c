// Builds the activities' dependencies once per worker process.
import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import { createStoreOpener } from '../artifacts/open-store';
import { createAwsProvider, type AwsProviderOptions } from '../providers/aws';
import { localArtifactsUri } from '../providers/local/lab';
import { createLocalProvider } from '../providers/local/local-provider';
import { routeByProvider } from '../providers/capabilities';
import type { Provider } from '../providers/provider';
import { createRemoteShell } from '../remote/remote-shell';
import type { RunSpec } from '../run-spec/schema';
import { trainingProgressSignal } from '../workflows/definitions';
import type { WorkerConfig } from './config';
import { buildReaperDeps, type ReaperConfig } from './reaper-schedule';

export function buildActivityDeps(config: WorkerConfig, client: Client, reaper: ReaperConfig): ActivityDeps {
  const local = createLocalProvider({ labRoot: config.localLabRoot, bootDelayMs: config.localBootDelayMs });
  const awsProvider = awsProvidersByRegion({ operatorCidr: config.operatorCidr });
  return {
    providerFor: (spec: RunSpec): Provider =>
      routeByProvider<Provider>(spec, { local: () => local, aws: (aws) => awsProvider(aws.aws.region) }),
    remote: createRemoteShell(),
    pollIntervalMs: config.pollIntervalMs,
    ...(config.inputRoots ? { localInputRoots: config.inputRoots } : {}),
    openStore: createStoreOpener(),
    hub: hubSettings(process.env),
    localArtifactsUri: localArtifactsUri(config.localLabRoot),
    reaper: buildReaperDeps(client, {
      local,
      aws: reaper.awsRegions.map((region) => [region, awsProvider(region)]),
      scope: { namespace: config.namespace, taskQueue: config.taskQueue },
    }),
    reportProgress: async (workflowId, update) => {
      await client.workflow.getHandle(workflowId).signal(trainingProgressSignal, update);
    },
  };
}

/** One EC2 provider per region for the worker's lifetime: runs and the reaper share it; run settings travel per call. */
export function awsProvidersByRegion(options: AwsProviderOptions): (region: string) => Provider {
  const providers = new Map<string, Provider>();
  return (region) => {
    let provider = providers.get(region);
    if (!provider) {
      provider = createAwsProvider({ region }, options);
      providers.set(region, provider);
    }
    return provider;
  };
}

/** The worker's hub endpoint and token, for the master's download of a hub model (see ActivityDeps.hub). */
export function hubSettings(env: NodeJS.ProcessEnv): { endpoint?: string; token?: string } {
  return {
    ...(env.HF_ENDPOINT ? { endpoint: env.HF_ENDPOINT } : {}),
    ...(env.HF_TOKEN ? { token: env.HF_TOKEN } : {}),
  };
}
