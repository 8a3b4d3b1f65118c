// teardown: every node of the cluster terminated (found by cluster id), then what bootstrap made; the
// run's cost is estimated from the nodes' lifetimes before they go.
import { ApplicationFailure } from '@temporalio/common';
import { costOverridesOf, estimateCost } from '../cluster/cost';
import { FailureType } from '../common/errors';
import type { NodeRecord } from '../providers/provider';
import type { RunSpec } from '../spec/schema';
import { pruneCheckpoints } from '../artifacts/stored-checkpoints';
import { clusterRef, runStore, type ActivityDeps } from './deps';
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
      const provider = usableProvider(deps, input);
      if (!provider) return { nodesTerminated: 0, nodesLeft: 0, kept: false, costUsd: 0, unpricedTypes: [], access: [] };
      const ref = clusterRef(input);
      const before = (await provider.listNodes(ref)).filter((n) => n.state !== 'terminated');
      const cost = runCost(input.spec, before);
      if (input.keepCluster) {
        const identity = await provider.sshIdentity(ref);
        const access = before.map(
          (n) => `${n.name}: ssh -i ${identity.keyPath} -p ${n.sshPort} ${identity.username}@${n.address}`,
        );
        return { nodesTerminated: 0, nodesLeft: before.length, kept: true, ...cost, access };
      }
      await keepAlive(async () => {
        await provider.terminateNodes(ref);
        await provider.cleanup(ref);
        // The model and run record are the product: teardown never touches them.
        if (input.succeeded && input.artifacts)
          await pruneCheckpoints(runStore(deps, input), input.spec.artifacts.keepCheckpoints);
      });
      const left = (await provider.listNodes(ref)).filter((n) => n.state !== 'terminated');
      return { nodesTerminated: before.length - left.length, nodesLeft: left.length, kept: false, ...cost, access: [] };
    },
  };
}

/** None when the spec's provider settings are unusable: such a run created nothing, so there is nothing to tear down. */
function usableProvider(deps: ActivityDeps, input: TeardownInput) {
  try {
    return deps.providerFor(input.spec);
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === FailureType.SpecInvalid) return undefined;
    throw err;
  }
}

function runCost(spec: RunSpec, nodes: NodeRecord[]): Pick<TeardownResult, 'costUsd' | 'unpricedTypes'> {
  const estimate = estimateCost(
    nodes.map((n) => ({ instanceType: n.instanceType, market: n.market, launchedAt: n.launchedAt })),
    costOverridesOf(spec),
  );
  return { costUsd: estimate.totalUsd, unpricedTypes: estimate.unpricedTypes };
}
