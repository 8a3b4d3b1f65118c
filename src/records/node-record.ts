// A node as its provider reports it: a plain record that imports nothing, shared by providers, activities,
// workflows and the CLI.

export type NodeRole = 'master' | 'worker';
export type NodeState = 'pending' | 'running' | 'stopping' | 'terminated' | 'unknown';
export type Market = 'on-demand' | 'spot';

export interface NodeRecord {
  name: string;
  role: NodeRole;
  /** The provider's own id (EC2 instance id, local node key). */
  providerId: string;
  /** Address the worker process connects to over SSH. */
  address: string;
  /** Address other nodes of the cluster use. */
  privateAddress: string;
  sshPort: number;
  /** Pinned host public key, OpenSSH format ("ssh-ed25519 AAAA..."). */
  hostKey: string;
  state: NodeState;
  /** Why a node is not running (e.g. Server.SpotInstanceTermination). */
  stateReason?: string;
  /**
   * The provider's own evidence that a pending or running node is broken (an EC2 status check that
   * failed): the node is lost though its state says otherwise. Absent when the provider sees no fault.
   */
  impairment?: string;
  instanceType: string;
  market: Market;
  /** ISO timestamp. */
  launchedAt: string;
  /** A boot delay the provider states for this node (the local provider's slow-boot model); SSH waits allow for it. */
  bootDelayMs?: number;
}
