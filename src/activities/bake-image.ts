// bake-image: an image of the master after install-deps, named by the recipe fingerprint and reused.
import { activitySignal, clusterRef, runProvider, targetFor, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { ImageRecord, NodeRecord, RunContext } from './types';

export interface BakeInput extends RunContext {
  master: NodeRecord;
  fingerprint: string;
}

export function createBakeActivities(deps: ActivityDeps) {
  return {
    async bakeImage(input: BakeInput): Promise<ImageRecord> {
      const provider = runProvider(deps, input);
      const ref = clusterRef(input);
      return keepAlive(async () => {
        const existing = await provider.findImage(input.fingerprint);
        if (existing) return existing;
        // Images are taken without a reboot: flush the install to disk first.
        await deps.remote.check(await targetFor(deps, input, input.master), 'sync', {
          label: 'flush disks before baking',
          signal: activitySignal(),
        });
        return provider.bakeImage(ref, input.master, input.fingerprint);
      });
    },
  };
}
