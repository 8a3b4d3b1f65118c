// The aws provider against moto, with every EC2 instance mirrored by a real local sshd node of the same
// name: EC2 calls are real (moto), and every SSH step runs for real on the node standing in for it.
import type { ImageRecord, NodeRecord, Provider } from '../../src/providers/provider';

const LOCAL = { provider: 'local' } as const;

export function mirroredProvider(aws: Provider, local: Provider): Provider {
  const localImage = async (image: ImageRecord | undefined): Promise<ImageRecord | undefined> =>
    image === undefined ? undefined : local.findImage(image.fingerprint);
  const merge = (instances: NodeRecord[], nodes: NodeRecord[]): NodeRecord[] =>
    instances.map((instance) => {
      const node = nodes.find((n) => n.name === instance.name);
      if (!node) return { ...instance, state: 'terminated', stateReason: 'no local node mirrors this instance' };
      return {
        ...instance,
        address: node.address,
        privateAddress: node.privateAddress,
        sshPort: node.sshPort,
        hostKey: node.hostKey,
      };
    });
  return {
    name: 'aws',
    async bootstrap(cluster, settings, options) {
      const info = await aws.bootstrap(cluster, settings, options);
      const mirror = await local.bootstrap(cluster, LOCAL, options);
      // The stand-in nodes share this machine's CPUs and loopback network, and never reach EC2's IMDS.
      return {
        ...info,
        rendezvousPort: mirror.rendezvousPort,
        mpiInterface: mirror.mpiInterface,
        nodesShareCpus: true,
        noticeCommand: mirror.noticeCommand,
      };
    },
    async launchNodes(request) {
      const instances = await aws.launchNodes(request);
      const nodes = await local.launchNodes({ ...request, settings: LOCAL, image: await localImage(request.image) });
      return merge(instances, nodes);
    },
    async listNodes(cluster, settings, options) {
      return merge(await aws.listNodes(cluster, settings, options), await local.listNodes(cluster, LOCAL, options));
    },
    async terminateNodes(cluster, names, options) {
      await aws.terminateNodes(cluster, names, options);
      await local.terminateNodes(cluster, names, options);
    },
    findImage: async (fingerprint, options) =>
      (await local.findImage(fingerprint, options)) ? aws.findImage(fingerprint, options) : undefined,
    async bakeImage(request) {
      await local.bakeImage({ ...request, settings: LOCAL });
      return aws.bakeImage(request);
    },
    async cleanup(cluster, options) {
      await aws.cleanup(cluster, options);
      await local.cleanup(cluster, options);
    },
    listClusters: async (options) =>
      [...new Set([...(await aws.listClusters(options)), ...(await local.listClusters(options))])].sort(),
    sshIdentity: () => local.sshIdentity(LOCAL),
  };
}
