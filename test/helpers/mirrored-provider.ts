// The aws provider against moto, with every EC2 instance mirrored by a real local sshd node of the same
// name: EC2 calls are real (moto), and every SSH step runs for real on the node standing in for it.
import type { ClusterRef, ImageRecord, LaunchRequest, NodeRecord, Provider } from '../../src/providers/provider';

export function mirroredProvider(aws: Provider, local: Provider): Provider {
  const localImage = async (image: ImageRecord | undefined): Promise<ImageRecord | undefined> =>
    image === undefined ? undefined : local.findImage(image.fingerprint);
  const merge = (instances: NodeRecord[], nodes: NodeRecord[]): NodeRecord[] =>
    instances.map((instance) => {
      const node = nodes.find((n) => n.name === instance.name);
      if (!node) return { ...instance, state: 'terminated', stateReason: 'no local node mirrors this instance' };
      return { ...instance, address: node.address, privateAddress: node.privateAddress, sshPort: node.sshPort, hostKey: node.hostKey };
    });
  return {
    name: 'aws',
    async bootstrap(cluster) {
      const info = await aws.bootstrap(cluster);
      const mirror = await local.bootstrap(cluster);
      // The stand-in nodes share this machine's CPUs and loopback network, and never reach EC2's IMDS.
      return {
        ...info,
        rendezvousPort: mirror.rendezvousPort,
        mpiInterface: mirror.mpiInterface,
        nodesShareCpus: true,
        noticeCommand: mirror.noticeCommand,
      };
    },
    async launchNodes(request: LaunchRequest) {
      const instances = await aws.launchNodes(request);
      const nodes = await local.launchNodes({ ...request, image: await localImage(request.image) });
      return merge(instances, nodes);
    },
    async listNodes(cluster: ClusterRef) {
      return merge(await aws.listNodes(cluster), await local.listNodes(cluster));
    },
    async terminateNodes(cluster, names) {
      await aws.terminateNodes(cluster, names);
      await local.terminateNodes(cluster, names);
    },
    findImage: async (fingerprint) => ((await local.findImage(fingerprint)) ? aws.findImage(fingerprint) : undefined),
    async bakeImage(cluster, node, fingerprint) {
      await local.bakeImage(cluster, node, fingerprint);
      return aws.bakeImage(cluster, node, fingerprint);
    },
    async cleanup(cluster) {
      await aws.cleanup(cluster);
      await local.cleanup(cluster);
    },
    listClusters: async () => [...new Set([...(await aws.listClusters()), ...(await local.listClusters())])].sort(),
    sshIdentity: (cluster) => local.sshIdentity(cluster),
  };
}
