// teardown: every node of the cluster terminated (found by cluster id), then what bootstrap made.
import { clusterRef, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { RunContext, TeardownResult } from './types';

export interface TeardownInput extends RunContext {
  keepCluster: boolean;
}

export function createTeardownActivities(deps: ActivityDeps) {
  return {
    async teardown(input: TeardownInput): Promise<TeardownResult> {
      const provider = deps.providerFor(input.spec);
      const ref = clusterRef(input);
      const before = (await provider.listNodes(ref)).filter((n) => n.state !== 'terminated');
      if (input.keepCluster) return { nodesTerminated: 0, nodesLeft: before.length, kept: true };
      await keepAlive(async () => {
        await provider.terminateNodes(ref);
        await provider.cleanup(ref);
      });
      const left = (await provider.listNodes(ref)).filter((n) => n.state !== 'terminated');
      return { nodesTerminated: before.length - left.length, nodesLeft: left.length, kept: false };
    },
  };
}
