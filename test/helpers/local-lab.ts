// A local provider on a test lab folder, and the deps real activities need to use it.
import type { ActivityDeps } from '../../src/activities';
import { createFolderCheckpointStore } from '../../src/checkpoints/checkpoint-store';
import { createLocalProvider } from '../../src/providers/local/local-provider';
import { scanNodeProcesses } from '../../src/providers/local/node-scan';
import { createRemoteShell } from '../../src/remote/remote-shell';

export const TEST_LAB_ROOT = process.env.TUNEFORGE_TEST_LAB ?? '/var/lib/tuneforge/test-lab';

export const testProvider = createLocalProvider({ labRoot: TEST_LAB_ROOT, tmpSizeMiB: 512 });

export function testDeps(overrides: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    providerFor: () => testProvider,
    remote: createRemoteShell(),
    reportProgress: async () => undefined,
    pollIntervalMs: 300,
    checkpoints: createFolderCheckpointStore(`${TEST_LAB_ROOT}-checkpoints`),
    ...overrides,
  };
}

/** Node processes of a cluster still alive on this machine, found by their command line. */
export async function liveNodeProcesses(clusterId: string): Promise<number> {
  const marker = `/clusters/${clusterId}/`;
  return (await scanNodeProcesses()).filter((p) => p.etcDir.includes(marker)).length;
}
