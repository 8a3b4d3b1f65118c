// A whole run on local nodes that answer SSH only seconds after launch (the local provider's slow-boot
// model of EC2 bare metal): the run waits for them instead of failing, shows the wait in its progress,
// replaces nothing and leaves no node.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { createLocalProvider } from '../src/providers/local/local-provider';
import { progressQuery, type RunProgress, type RunSummary } from '../src/workflows/definitions';
import {
  liveNodeProcesses,
  processesPerNode,
  removeClustersStartingWith,
  sampleNodeProcesses,
  testDeps,
  TEST_LAB_ROOT,
} from './helpers/local-lab';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';

const BOOT_DELAY_MS = 5000;

describe('a whole run with slow-booting nodes', () => {
  after(() => removeClustersStartingWith('slowboot-'));

  it('waits for every node, reports the waits, replaces nothing and leaves no node', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('slowboot');
    const slowProvider = createLocalProvider({ labRoot: TEST_LAB_ROOT, tmpSizeMiB: 512, bootDelayMs: BOOT_DELAY_MS });
    const { client, close } = await testClient();
    const deps = testDeps({
      providerFor: () => slowProvider,
      reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
    });
    const notes = new Set<string>();
    const spec = {
      name: 'slow-boot',
      provider: 'local',
      recipe: 'tiny-qa',
      nodes: 2,
      training: { maxSteps: 6, saveSteps: 3, evaluate: false },
      sanity: { maxSteps: 2 },
    };
    // Node processes as the machine shows them (pid + start time): a node started twice counts twice.
    const sampler = sampleNodeProcesses(workflowId);
    try {
      const summary = (await withWorker(realActivities(deps), async ({ client: c, taskQueue }) => {
        const handle = await c.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
        let done = false;
        const watching = (async () => {
          while (!done) {
            const progress: RunProgress | undefined = await handle.query(progressQuery).catch(() => undefined);
            const note = progress?.training?.message;
            if (note) notes.add(`${progress.stage}: ${note}`);
            await sleep(500);
          }
        })();
        try {
          return await handle.result();
        } finally {
          done = true;
          await watching;
        }
      })) as RunSummary;
      const seen = [...notes].join('\n');
      assert.match(seen, /^provision-master: waiting for master: \d+ s, set to boot in 5 s$/m);
      assert.match(seen, /^launch-workers: waiting for worker-1: \d+ s, set to boot in 5 s$/m);
      assert.equal(summary.training.globalStep, 6);
      assert.equal(summary.recoveries, 0, 'no node was replaced for booting slowly');
      assert.deepEqual(processesPerNode(await sampler.stop()), { master: 1, 'worker-1': 1 }, 'each node started once');
      assert.equal(summary.teardown.nodesLeft, 0);
      assert.equal(await liveNodeProcesses(workflowId), 0);
    } finally {
      await sampler.stop();
      await close();
    }
  });
});
