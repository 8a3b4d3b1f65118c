// launch-workers: the N-1 workers from the baked image in one provider call, then SSH on each.
import { clusterRef, runProvider, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import { SshWait } from './ssh-wait';
import type { ImageRecord, NodeRecord, RunContext } from './types';

export interface LaunchWorkersInput extends RunContext {
  image: ImageRecord;
  names: string[];
}

export function createLaunchActivities(deps: ActivityDeps) {
  return {
    async launchWorkers(input: LaunchWorkersInput): Promise<NodeRecord[]> {
      if (input.names.length === 0) return [];
      const provider = runProvider(deps, input);
      const sshWait = new SshWait(deps, input, 'launch-workers');
      return keepAlive(async () => {
        const workers = await provider.launchNodes({
          cluster: clusterRef(input),
          role: 'worker',
          names: input.names,
          image: input.image,
        });
        await sshWait.untilReady(workers);
        return workers;
      }, sshWait.details);
    },
  };
}
