// Where the local provider keeps its state on disk: one folder per cluster, node and image.
import { join } from 'node:path';

export const NODE_USER = 'ubuntu';
export const NODE_HOME = '/home/ubuntu';
/** Inside a node, its own config folder is bind-mounted here (the lab folder itself is hidden). */
export const NODE_ETC_MOUNT = '/run/tuneforge-node';
export const DEFAULT_LAB_ROOT = '/var/lib/tuneforge/local';
export const DEFAULT_PIP_CACHE = '/var/cache/tuneforge/pip';
/**
 * Loopback /24s are claimed machine-wide (every lab root shares the loopback network), and under /run
 * so a reboot, which ends every node, frees them.
 */
export const SLOTS_DIR = '/run/tuneforge/slots';

/** Where local runs that name no artifact store keep their model, checkpoints and run record. */
export function localArtifactsUri(labRoot = DEFAULT_LAB_ROOT): string {
  return `file://${join(labRoot, 'artifacts')}`;
}

export interface LabLayout {
  root: string;
  operatorKey: string;
  /** One JSON line per node process ever started: what "nodes launched" counts. */
  launchLog: string;
  /** Machine-wide: one file per claimed loopback /24. */
  slots: string;
  images: string;
  pipCache: string;
  cluster(clusterId: string): ClusterLayout;
}

export interface ClusterLayout {
  dir: string;
  info: string;
  hosts: string;
  addresses: string;
  /**
   * While this file exists the cluster gets no new node: a launch fails CapacityUnavailable, as EC2's does
   * when a zone has no capacity for the type (the local model of spot capacity that is gone).
   */
  noCapacity: string;
  nodes: string;
  node(name: string): NodeLayout;
}

export interface NodeLayout {
  dir: string;
  record: string;
  etc: string;
  home: string;
  upper: string;
  work: string;
  log: string;
}

export function labLayout(root: string, pipCache: string): LabLayout {
  return {
    root,
    operatorKey: join(root, 'operator', 'id_ed25519'),
    launchLog: join(root, 'launches.jsonl'),
    slots: SLOTS_DIR,
    images: join(root, 'images'),
    pipCache,
    cluster: (clusterId) => clusterLayout(join(root, 'clusters', clusterId)),
  };
}

function clusterLayout(dir: string): ClusterLayout {
  const nodes = join(dir, 'nodes');
  return {
    dir,
    info: join(dir, 'cluster.json'),
    hosts: join(dir, 'hosts'),
    addresses: join(dir, 'addresses'),
    noCapacity: join(dir, 'no-capacity'),
    nodes,
    node: (name) => {
      const nodeDir = join(nodes, name);
      return {
        dir: nodeDir,
        record: join(nodeDir, 'node.json'),
        etc: join(nodeDir, 'etc'),
        home: join(nodeDir, 'home'),
        upper: join(nodeDir, 'upper'),
        work: join(nodeDir, 'work'),
        log: join(nodeDir, 'node.log'),
      };
    },
  };
}
