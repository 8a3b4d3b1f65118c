// The provider contract: where nodes come from. Every verb is idempotent and finds resources by
// cluster id (the workflow id), never by ids held only in memory. Records are JSON-plain.
// A provider is built once per place (the local lab, one EC2 region), never per run: a run's launch
// settings travel with each call that needs them, and every verb that waits takes an AbortSignal.
import type { AwsSettings } from '../run-spec/schema';
import type { Market, NodeRecord, NodeRole, NodeState } from '../records/node-record';

export type { Market, NodeRecord, NodeRole, NodeState };

/** The port the master's torch rendezvous listens on (MASTER_PORT); the local provider adds the cluster's slot. */
export const RENDEZVOUS_PORT = 29500;

export interface ClusterRef {
  clusterId: string;
  runName: string;
  /** Tagged on everything the cluster owns at launch; a reaper only touches clusters of its own scope. */
  scope?: ClusterScope;
}

/** Which deployment a cluster belongs to: the Temporal namespace and task queue of the worker that launched it. */
export interface ClusterScope {
  namespace: string;
  taskQueue: string;
}

export interface ImageRecord {
  imageId: string;
  fingerprint: string;
  createdAt: string;
}

export interface ClusterInfo {
  clusterId: string;
  provider: 'local' | 'aws';
  sshUser: string;
  /** Port for torch.distributed's rendezvous (MASTER_PORT); unique per cluster where nodes share a network stack. */
  rendezvousPort: number;
  /** Network interface MPI must use between nodes, when it cannot find it alone. */
  mpiInterface?: string;
  /** All nodes run on one host and share its CPUs (the local provider). */
  nodesShareCpus: boolean;
  /** Shell command run on a node that prints "interruption-notice" when the node is about to be reclaimed. */
  noticeCommand?: string;
}

/** What a run's spec says about its nodes (a RunSpec is one); each provider reads its own kind. */
export type NodeSettings = { provider: 'local' } | { provider: 'aws'; aws: AwsSettings };

export interface CallOptions {
  /** Ends the call's waits and requests early (the activity's cancellation signal). */
  signal?: AbortSignal;
}

/** One read-only check made before anything of a run is created (see `Provider.preflight`). */
export interface PreflightCheck {
  /** e.g. vcpu-quota, instance-type, base-image, key-pair, artifact-store. */
  check: string;
  /** The spec field it concerns. */
  field: string;
  /** true: passed; false: the run must not start; null: could not be checked (the run goes on, the reason shown). */
  ok: boolean | null;
  message: string;
  needed?: number;
  available?: number;
  /** How to fix a failure, in words and as a command. */
  fix?: string;
}

export interface PreflightRequest extends CallOptions {
  settings: NodeSettings;
  /** Nodes the run launches (master included). */
  nodes: number;
  /** The run's cluster, whose own instances a re-check must not count against its quota. */
  cluster?: ClusterRef;
}

export interface LaunchRequest extends CallOptions {
  cluster: ClusterRef;
  settings: NodeSettings;
  role: NodeRole;
  /** Desired node names; nodes that already exist under these names are adopted, not relaunched. */
  names: string[];
  /** Launch from this baked image; omit for the provider's base image. */
  image?: ImageRecord;
}

export interface BakeRequest extends CallOptions {
  cluster: ClusterRef;
  node: NodeRecord;
  fingerprint: string;
  /** The run's settings; their keep policy is recorded on the image, so a reaper of a crashed run honours it. */
  settings: NodeSettings;
}

export interface SshIdentity {
  username: string;
  /** Private key material: read by the worker process, never put in a workflow payload. */
  privateKey: Buffer;
  /** Where that key lives on the worker's machine (a path is no secret): for telling people how to log in. */
  keyPath: string;
}

export interface Provider {
  readonly name: 'local' | 'aws';
  /** Creates (or finds) the cluster's shared resources: network rules, key pairs, state folders. */
  bootstrap(cluster: ClusterRef, settings: NodeSettings, options?: CallOptions): Promise<ClusterInfo>;
  /** Reconciles the named nodes: adopts running ones, launches the shortfall, waits until running. */
  launchNodes(request: LaunchRequest): Promise<NodeRecord[]>;
  /**
   * Every node of the cluster that still exists (terminated ones may be listed with that state), each
   * live one with its impairment when the provider's own checks find it broken.
   */
  listNodes(cluster: ClusterRef, settings: NodeSettings, options?: CallOptions): Promise<NodeRecord[]>;
  /** Terminates the named nodes (all when names is omitted) and waits until they are gone. */
  terminateNodes(cluster: ClusterRef, names?: string[], options?: CallOptions): Promise<void>;
  /** Finds a baked image by recipe fingerprint. */
  findImage(fingerprint: string, options?: CallOptions): Promise<ImageRecord | undefined>;
  /** Bakes an image of the node's disk, reusing one with the same fingerprint. */
  bakeImage(request: BakeRequest): Promise<ImageRecord>;
  /** Removes what bootstrap created, and the cluster's baked images that were not to be kept. Safe when nothing exists. */
  cleanup(cluster: ClusterRef, options?: CallOptions): Promise<void>;
  /** Cluster ids that still own resources (nodes, groups, key pairs, cluster-baked images): what a reaper checks. */
  listClusters(options?: CallOptions, scope?: ClusterScope): Promise<string[]>;
  /** How the worker process logs in to nodes launched with these settings. */
  sshIdentity(settings: NodeSettings): Promise<SshIdentity>;
  /** Read-only checks of the account before a run creates anything (quota, offerings, image, keys); absent: none. */
  preflight?(request: PreflightRequest): Promise<PreflightCheck[]>;
  /**
   * EC2's own reachability check of the named nodes (`passed` once the instance's OS answers EC2), and the
   * range the nodes' group opens to SSH; absent: the provider has no such check (local nodes).
   */
  reachability?(cluster: ClusterRef, names: string[], options?: CallOptions): Promise<Reachability>;
}

export interface Reachability {
  /** By node name: what DescribeInstanceStatus's reachability check says (passed, failed, initializing, ...). */
  nodes: Record<string, string>;
  sshCidr: string | undefined;
}
