// launch-workers: the N-1 workers from the baked image in one provider call, then SSH on each.
import { Context } from '@temporalio/activity';
import { clusterRef, runProvider, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { SSH_READY_TIMEOUT_MS } from './provision-master';
import type { ImageRecord, NodeRecord, RunContext } from './types';

export interface LaunchWorkersInput extends RunContext {
  image: ImageRecord;
  names: string[];
}

export function createLaunchActivities(deps: ActivityDeps) {
  return {
    async launchWorkers(input: LaunchWorkersInput): Promise<NodeRecord[]> {
      const ctx = Context.current();
      if (input.names.length === 0) return [];
      const provider = runProvider(deps, input);
      return keepAlive(async () => {
        const workers = await provider.launchNodes({
          cluster: clusterRef(input),
          role: 'worker',
          names: input.names,
          image: input.image,
        });
        await Promise.all(
          workers.map(async (node) =>
            deps.remote.waitReady(await targetFor(deps, input, node), SSH_READY_TIMEOUT_MS, ctx.cancellationSignal),
          ),
        );
        return workers;
      });
    },
  };
}
