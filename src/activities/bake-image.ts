// bake-image: an image of the master after install-deps, named by the recipe fingerprint and reused.
import { clusterRef, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { ImageRecord, NodeRecord, RunContext } from './types';

export interface BakeInput extends RunContext {
  master: NodeRecord;
  fingerprint: string;
}

export function createBakeActivities(deps: ActivityDeps) {
  return {
    async bakeImage(input: BakeInput): Promise<ImageRecord> {
      const provider = deps.providerFor(input.spec);
      return keepAlive(() => provider.bakeImage(clusterRef(input), input.master, input.fingerprint));
    },
  };
}
