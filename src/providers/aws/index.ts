// The AWS EC2 provider: one per region per worker; nodes are EC2 instances found by cluster tag. A run's
// launch settings come with each call that needs them; see ../provider.ts for the contract.
import { setTimeout as sleepMs } from 'node:timers/promises';
import { specInvalid } from '../../common/errors';
import type { AwsSettings } from '../../run-spec/schema';
import type {
  BakeRequest,
  CallOptions,
  ClusterInfo,
  ClusterRef,
  ClusterScope,
  ImageRecord,
  LaunchRequest,
  NodeRecord,
  NodeSettings,
  PreflightCheck,
  PreflightRequest,
  Provider,
  Reachability,
  SshIdentity,
} from '../provider';
import { createEc2Client, type Ec2ClientFactory } from './client';
import { listClusterIds } from './clusters';
import { IMDS_NOTICE_COMMAND } from './interruption';
import { withSignal, type AwsContext, type LaunchContext } from './context';
import { bakeImage, deleteClusterImages, findImageByFingerprint, resolveBaseImage } from './images';
import { describeImpairments, describeReachability } from './instance-status';
import { describeClusterInstances, isLive, nodeNameOf, SSH_USER, toNodeRecord } from './instances';
import { deleteClusterKeyPairs, ensureKeyPair } from './key-pair';
import { launchNodes } from './launch';
import { findDefaultVpcId, zoneSubnets } from './network';
import { expandHome, readPrivateKey, readPublicKey } from './operator-key';
import { clusterSshCidrs, deleteClusterSecurityGroups, ensureSecurityGroup } from './security-group';
import { awsPreflight } from './preflight';
import { serviceQuotasReader, type QuotaReader } from './service-quotas';
import { awsSpecProblems } from './spec-checks';
import { deriveHostKey } from './ssh-keys';
import { terminateClusterNodes } from './terminate';
// Each node has its own network stack on EC2, so torch's default rendezvous port is free.
import { RENDEZVOUS_PORT } from '../provider';

export { awsSpecProblems, keyFileProblems, placementProblems, sshCidrProblems } from './spec-checks';

/** Where a provider talks to: all a provider is built from. */
export interface AwsPlace {
  region: string;
  /** Overrides the EC2 endpoint (moto in tests); AWS_ENDPOINT_URL_EC2 also works through the SDK. */
  endpoint?: string;
}

export interface AwsProviderOptions {
  /** Builds the EC2 client (tests add fault-injection middleware here). */
  createClient?: Ec2ClientFactory;
  /** Operator CIDR allowed to reach port 22 when a run's spec sets no aws.sshCidr. */
  operatorCidr?: string;
  /** Backoff sleep; tests pass one that returns at once. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Reads an EC2 Service Quotas value; default: GetServiceQuota with the EC2 client's credentials (moto has no EC2 quotas). */
  readQuota?: QuotaReader;
}

/** The aws half of a run's settings; a run of another provider (or region) sent here is a wiring bug. */
function awsSettingsOf(settings: NodeSettings, region: string): AwsSettings {
  if (settings.provider !== 'aws') throw new Error(`the aws provider got settings of a ${settings.provider} run`);
  if (settings.aws.region !== region) {
    throw new Error(`the aws provider of ${region} got settings for ${settings.aws.region}`);
  }
  return settings.aws;
}

export function createAwsProvider(place: AwsPlace, options: AwsProviderOptions = {}): Provider {
  const createClient = options.createClient ?? createEc2Client;
  const regionCtx: AwsContext = {
    ec2: createClient({ region: place.region, ...(place.endpoint === undefined ? {} : { endpoint: place.endpoint }) }),
    region: place.region,
    retry: {
      sleep: options.sleep ?? ((ms, signal) => sleepMs(ms, undefined, { signal })),
      random: options.random ?? Math.random,
    },
  };
  const readQuota = options.readQuota ?? serviceQuotasReader(regionCtx.ec2);
  const ctxFor = (callOptions: CallOptions = {}): AwsContext => withSignal(regionCtx, callOptions.signal);
  const launchCtx = (settings: NodeSettings, callOptions: CallOptions = {}): LaunchContext =>
    withSignal({ ...regionCtx, settings: awsSettingsOf(settings, place.region) }, callOptions.signal);

  const provider = {
    name: 'aws',

    async bootstrap(cluster: ClusterRef, settings: NodeSettings, callOptions?: CallOptions): Promise<ClusterInfo> {
      const ctx = launchCtx(settings, callOptions);
      // The same checks as the CLI's, again on the worker (its files, its operator CIDR), before anything is created.
      const problems = await awsSpecProblems(ctx.settings, { operatorCidr: options.operatorCidr, checkSshCidr: true });
      const sshCidr = ctx.settings.sshCidr ?? options.operatorCidr;
      if (problems.length > 0 || sshCidr === undefined) throw specInvalid(problems);
      const publicKey = await readPublicKey(ctx.settings, await readPrivateKey(ctx.settings));
      await resolveBaseImage(ctx); // an unknown image fails here, before anything is created
      const vpcId = await findDefaultVpcId(ctx);
      await zoneSubnets(ctx, vpcId);
      await ensureSecurityGroup(ctx, cluster, vpcId, sshCidr);
      await ensureKeyPair(ctx, cluster, publicKey);
      return {
        clusterId: cluster.clusterId,
        provider: 'aws',
        sshUser: SSH_USER,
        rendezvousPort: RENDEZVOUS_PORT,
        nodesShareCpus: false,
        noticeCommand: IMDS_NOTICE_COMMAND,
      };
    },

    async launchNodes(request: LaunchRequest): Promise<NodeRecord[]> {
      const ctx = launchCtx(request.settings, request);
      return launchNodes(ctx, request, await readPrivateKey(ctx.settings));
    },

    async listNodes(cluster: ClusterRef, settings: NodeSettings, callOptions?: CallOptions): Promise<NodeRecord[]> {
      const privateKey = await readPrivateKey(awsSettingsOf(settings, place.region));
      const ctx = ctxFor(callOptions);
      const instances = await describeClusterInstances(ctx, cluster.clusterId);
      const liveIds = instances.filter(isLive).flatMap((instance) => instance.InstanceId ?? []);
      // No ids at all would ask for every instance of the account.
      const impairments = liveIds.length === 0 ? new Map<string, string>() : await describeImpairments(ctx, liveIds);
      return instances.flatMap((instance) => {
        const name = nodeNameOf(instance);
        const record =
          name === undefined ? undefined : toNodeRecord(instance, deriveHostKey(privateKey, cluster.clusterId, name).publicKey);
        if (record === undefined) return [];
        const impairment = impairments.get(record.providerId);
        return [impairment === undefined ? record : { ...record, impairment }];
      });
    },

    async terminateNodes(cluster: ClusterRef, names?: string[], callOptions?: CallOptions): Promise<void> {
      await terminateClusterNodes(ctxFor(callOptions), cluster.clusterId, names);
    },

    findImage(fingerprint: string, callOptions?: CallOptions): Promise<ImageRecord | undefined> {
      return findImageByFingerprint(ctxFor(callOptions), fingerprint);
    },

    bakeImage(request: BakeRequest): Promise<ImageRecord> {
      const { keepImage } = awsSettingsOf(request.settings, place.region);
      return bakeImage(ctxFor(request), request.cluster, request.node, request.fingerprint, keepImage);
    },

    /**
     * Also terminates any instance of the cluster still there: its group cannot go while one uses it.
     * Images go when they were tagged at bake time not to be kept, so a reaper needs no run settings.
     */
    async cleanup(cluster: ClusterRef, callOptions?: CallOptions): Promise<void> {
      const ctx = ctxFor(callOptions);
      await terminateClusterNodes(ctx, cluster.clusterId);
      await deleteClusterSecurityGroups(ctx, cluster.clusterId);
      await deleteClusterKeyPairs(ctx, cluster.clusterId);
      await deleteClusterImages(ctx, cluster.clusterId);
    },

    listClusters: (callOptions?: CallOptions, scope?: ClusterScope) => listClusterIds(ctxFor(callOptions), scope),

    async reachability(cluster: ClusterRef, names: string[], callOptions?: CallOptions): Promise<Reachability> {
      const ctx = ctxFor(callOptions);
      const instances = (await describeClusterInstances(ctx, cluster.clusterId, { names })).filter(isLive);
      const ids = instances.flatMap((instance) => instance.InstanceId ?? []);
      const statuses = ids.length === 0 ? new Map<string, string>() : await describeReachability(ctx, ids);
      const nodes: Record<string, string> = {};
      for (const instance of instances) {
        const name = nodeNameOf(instance);
        const status = statuses.get(instance.InstanceId ?? '');
        if (name !== undefined && status !== undefined) nodes[name] = status;
      }
      const cidrs = await clusterSshCidrs(ctx, cluster.clusterId);
      return { nodes, sshCidr: cidrs.length > 0 ? cidrs.join(', ') : undefined };
    },

    preflight(request: PreflightRequest): Promise<PreflightCheck[]> {
      const ctx = launchCtx(request.settings, request);
      return awsPreflight(ctx, { nodes: request.nodes, readQuota, ...(request.cluster ? { cluster: request.cluster } : {}) });
    },

    async sshIdentity(settings: NodeSettings): Promise<SshIdentity> {
      const aws = awsSettingsOf(settings, place.region);
      return { username: SSH_USER, privateKey: await readPrivateKey(aws), keyPath: expandHome(aws.privateKeyPath) };
    },
  } satisfies Provider;
  return provider;
}
