// The AWS EC2 provider: nodes are EC2 instances found by cluster tag; see ../provider.ts for the contract.
import { setTimeout as sleepMs } from 'node:timers/promises';
import { specInvalid, type SpecProblem } from '../../common/errors';
import type { AwsSettings } from '../../spec/schema';
import type { ClusterInfo, ClusterRef, ImageRecord, LaunchRequest, NodeRecord, Provider, SshIdentity } from '../provider';
import { createEc2Client, type Ec2ClientFactory } from './client';
import { listClusterIds } from './clusters';
import { IMDS_NOTICE_COMMAND } from './interruption';
import type { AwsContext } from './context';
import { bakeImage, deleteClusterImages, findImageByFingerprint, resolveBaseImage } from './images';
import { describeClusterInstances, nodeNameOf, SSH_USER, toNodeRecord } from './instances';
import { deleteClusterKeyPairs, ensureKeyPair } from './key-pair';
import { launchNodes } from './launch';
import { findDefaultVpcId, zoneSubnets } from './network';
import { expandHome, readPrivateKey, readPublicKey } from './operator-key';
import { isKnownInstanceType } from './run-instance';
import { deleteClusterSecurityGroups, ensureSecurityGroup } from './security-group';
import { deriveHostKey } from './ssh-keys';
import { terminateClusterNodes } from './terminate';

/** Each node has its own network stack on EC2, so torch's default rendezvous port is free. */
const RENDEZVOUS_PORT = 29500;

export interface AwsProviderOptions {
  /** Builds the EC2 client (tests add fault-injection middleware here). */
  createClient?: Ec2ClientFactory;
  endpoint?: string;
  /** Operator CIDR allowed to reach port 22 when the spec sets no aws.sshCidr. */
  operatorCidr?: string;
  /** Backoff sleep; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

/** Problems with the aws settings that must stop a run before anything is created. */
export function validateAwsSettings(settings: AwsSettings, operatorCidr?: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const sshCidr = settings.sshCidr ?? operatorCidr;
  if (sshCidr === undefined) {
    problems.push({ path: 'aws.sshCidr', message: 'required: the only address range allowed to reach the nodes on port 22' });
  } else if (sshCidr.endsWith('/0')) {
    problems.push({
      path: 'aws.sshCidr',
      message: `${sshCidr} would open SSH to the whole internet; use your own address, e.g. 203.0.113.7/32`,
    });
  }
  return [...problems, ...placementProblems(settings)];
}

/** Instance types and zones that cannot exist: found from the spec alone (the CLI checks them too). */
export function placementProblems(settings: AwsSettings): SpecProblem[] {
  const problems: SpecProblem[] = [];
  settings.instanceTypes.forEach((instanceType, index) => {
    if (!isKnownInstanceType(instanceType)) {
      problems.push({ path: `aws.instanceTypes.${index}`, message: `${instanceType} is not an EC2 instance type` });
    }
  });
  settings.availabilityZones.forEach((zone, index) => {
    if (!zone.startsWith(settings.region)) {
      problems.push({ path: `aws.availabilityZones.${index}`, message: `${zone} is not a zone of ${settings.region}` });
    }
  });
  return problems;
}

export function createAwsProvider(settings: AwsSettings, options: AwsProviderOptions = {}): Provider {
  const problems = validateAwsSettings(settings, options.operatorCidr);
  const sshCidr = settings.sshCidr ?? options.operatorCidr;
  if (problems.length > 0 || sshCidr === undefined) throw specInvalid(problems);
  const createClient = options.createClient ?? createEc2Client;
  const ctx: AwsContext = {
    ec2: createClient({ region: settings.region, ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }) }),
    settings,
    retry: { sleep: options.sleep ?? ((ms) => sleepMs(ms)), random: options.random ?? Math.random },
  };

  const provider = {
    name: 'aws',

    async bootstrap(cluster: ClusterRef): Promise<ClusterInfo> {
      const publicKey = await readPublicKey(settings, await readPrivateKey(settings));
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
      return launchNodes(ctx, request, await readPrivateKey(settings));
    },

    async listNodes(cluster: ClusterRef): Promise<NodeRecord[]> {
      const privateKey = await readPrivateKey(settings);
      const instances = await describeClusterInstances(ctx, cluster.clusterId);
      return instances.flatMap((instance) => {
        const name = nodeNameOf(instance);
        const record =
          name === undefined ? undefined : toNodeRecord(instance, deriveHostKey(privateKey, cluster.clusterId, name).publicKey);
        return record === undefined ? [] : [record];
      });
    },

    async terminateNodes(cluster: ClusterRef, names?: string[]): Promise<void> {
      await terminateClusterNodes(ctx, cluster.clusterId, names);
    },

    findImage(fingerprint: string): Promise<ImageRecord | undefined> {
      return findImageByFingerprint(ctx, fingerprint);
    },

    bakeImage(cluster: ClusterRef, node: NodeRecord, fingerprint: string): Promise<ImageRecord> {
      return bakeImage(ctx, cluster, node, fingerprint);
    },

    /** Also terminates any instance of the cluster still there: its group cannot go while one uses it. */
    async cleanup(cluster: ClusterRef): Promise<void> {
      await terminateClusterNodes(ctx, cluster.clusterId);
      await deleteClusterSecurityGroups(ctx, cluster.clusterId);
      await deleteClusterKeyPairs(ctx, cluster.clusterId);
      if (!settings.keepImage) await deleteClusterImages(ctx, cluster.clusterId);
    },

    listClusters: () => listClusterIds(ctx),

    async sshIdentity(): Promise<SshIdentity> {
      return { username: SSH_USER, privateKey: await readPrivateKey(settings), keyPath: expandHome(settings.privateKeyPath) };
    },
  } satisfies Provider;
  return provider;
}
