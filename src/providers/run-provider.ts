// One run's view of a provider: the run's launch settings and its cancellation signal go with every
// call, so activities (and tests) name only the cluster and the nodes.
import type {
  ClusterInfo,
  ClusterRef,
  ImageRecord,
  LaunchRequest,
  NodeRecord,
  NodeSettings,
  Provider,
  SshIdentity,
} from './provider';

export interface RunProvider {
  readonly name: Provider['name'];
  bootstrap(cluster: ClusterRef): Promise<ClusterInfo>;
  launchNodes(request: Omit<LaunchRequest, 'settings' | 'signal'>): Promise<NodeRecord[]>;
  listNodes(cluster: ClusterRef): Promise<NodeRecord[]>;
  terminateNodes(cluster: ClusterRef, names?: string[]): Promise<void>;
  findImage(fingerprint: string): Promise<ImageRecord | undefined>;
  bakeImage(cluster: ClusterRef, node: NodeRecord, fingerprint: string): Promise<ImageRecord>;
  cleanup(cluster: ClusterRef): Promise<void>;
  listClusters(): Promise<string[]>;
  sshIdentity(): Promise<SshIdentity>;
}

export function bindRun(provider: Provider, settings: NodeSettings, signal?: AbortSignal): RunProvider {
  const options = signal === undefined ? {} : { signal };
  return {
    name: provider.name,
    bootstrap: (cluster) => provider.bootstrap(cluster, settings, options),
    launchNodes: (request) => provider.launchNodes({ ...request, settings, ...options }),
    listNodes: (cluster) => provider.listNodes(cluster, settings, options),
    terminateNodes: (cluster, names) => provider.terminateNodes(cluster, names, options),
    findImage: (fingerprint) => provider.findImage(fingerprint, options),
    bakeImage: (cluster, node, fingerprint) => provider.bakeImage({ cluster, node, fingerprint, settings, ...options }),
    cleanup: (cluster) => provider.cleanup(cluster, options),
    listClusters: () => provider.listClusters(options),
    sshIdentity: () => provider.sshIdentity(settings),
  };
}
