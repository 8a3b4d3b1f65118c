// teardown: every node of the cluster terminated (found by cluster id), then what bootstrap made. The run's
// cost is the workflow's spend meter (every node it launched), not what is left here.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import type { ClusterRef, NodeRecord } from '../providers/provider';
import type { RunProvider } from '../providers/run-provider';
import { pruneCheckpoints } from '../artifacts/stored-checkpoints';
import { clusterRef, runProvider, runStore, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { RunContext, TeardownResult } from './types';

export interface TeardownInput extends RunContext {
  keepCluster: boolean;
  /** After a success only the newest checkpoints stay in the store; after a failure all of them. */
  succeeded: boolean;
}

export function createTeardownActivities(deps: ActivityDeps) {
  return {
    async teardown(input: TeardownInput): Promise<TeardownResult> {
      const provider = runProvider(deps, input);
      const ref = clusterRef(input);
      const before = await liveNodes(provider, ref);
      if (input.keepCluster) {
        const identity = before.length > 0 ? await provider.sshIdentity() : undefined;
        const access = before.map(
          (n) => `${n.name}: ssh -i ${identity?.keyPath ?? '?'} -p ${n.sshPort} ${identity?.username ?? '?'}@${n.address}`,
        );
        return { nodesTerminated: 0, nodesLeft: before.length, kept: true, access };
      }
      // Both find what to remove by cluster tag, never by the settings: a run whose settings were refused is a quiet no-op.
      // The worker's kept connections to these nodes go with them, not after an idle timeout.
      deps.remote.release?.((target) => before.some((n) => n.address === target.host && n.sshPort === target.port));
      await keepAlive(async () => {
        await provider.terminateNodes(ref);
        await provider.cleanup(ref);
        // The model and run record are the product: teardown never touches them.
        if (input.succeeded && input.artifacts)
          await pruneCheckpoints(runStore(deps, input), input.spec.artifacts.keepCheckpoints);
      });
      const left = await liveNodes(provider, ref);
      return { nodesTerminated: before.length - left.length, nodesLeft: left.length, kept: false, access: [] };
    },
  };
}

/**
 * The cluster's nodes that are not terminated. Listing reads the run's key file (host keys derive from it);
 * when the spec check refuses it, no node can have been launched with it, so there are none to count.
 */
async function liveNodes(provider: RunProvider, ref: ClusterRef): Promise<NodeRecord[]> {
  try {
    return (await provider.listNodes(ref)).filter((n) => n.state !== 'terminated');
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === FailureType.SpecInvalid) return [];
    throw err;
  }
}

