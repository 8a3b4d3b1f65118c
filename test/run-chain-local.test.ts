// A real local run forced to continue as new while it trains (a tiny event budget): every run of the chain
// re-attaches to the one training job on the master, even across a worker killed mid-chain.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import type { RunSummary } from '../src/workflows/definitions';
import {
  liveNodeProcesses,
  processesPerNode,
  removeClustersStartingWith,
  runStoreOf,
  sampleNodeProcesses,
  testProvider,
} from './helpers/local-lab';
import { chainOf } from './helpers/run-chain';
import { testClient, uniqueId } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';

const spec = {
  name: 'chain',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 2,
  training: { maxSteps: 150, saveSteps: 20 },
  sanity: { maxSteps: 5 },
};

interface JobSnapshot {
  jobs: string[];
  starts: number;
  exited: boolean;
}

/** What the master holds of its training jobs, read every 300 ms while it is up; the last reading wins. */
function watchMasterJobs(clusterId: string): { last: () => JobSnapshot | undefined; stop: () => void } {
  let last: JobSnapshot | undefined;
  let stopped = false;
  const read = `ls tuneforge/jobs | grep '^train' | tr '\\n' ' '; echo; grep -c '"event":"start"' tuneforge/jobs/train-0/log || true; test -f tuneforge/jobs/train-0/exit_code && echo exited || echo running`;
  void (async () => {
    const ref = { clusterId, runName: spec.name };
    while (!stopped) {
      try {
        const master = (await testProvider.listNodes(ref)).find((n) => n.name === 'master' && n.state === 'running');
        if (master) {
          const target = sshTarget(master, await testProvider.sshIdentity());
          const [jobs = '', starts = '0', state = ''] = (
            await createRemoteShell().run(target, read, { label: 'jobs' })
          ).stdout.split('\n');
          last = { jobs: jobs.trim().split(' ').filter(Boolean), starts: Number(starts), exited: state.trim() === 'exited' };
        }
      } catch {
        // The master is gone (teardown) or not up yet.
      }
      await sleep(300);
    }
  })();
  return { last: () => last, stop: () => (stopped = true) };
}

describe('a real local run that continues as new mid-training', () => {
  let worker: WorkerProcess | undefined;
  after(async () => {
    await worker?.kill();
    await removeClustersStartingWith('chain-');
  });

  it(
    'hands the training job from run to run, survives a worker killed mid-chain, and leaves 0 nodes',
    { timeout: 10 * 60_000 },
    async (t) => {
      const taskQueue = uniqueId('chain-queue');
      const workflowId = uniqueId('chain');
      const { client, close } = await testClient();
      const master = watchMasterJobs(workflowId);
      // Node processes as the machine shows them (pid + start time): a node started twice counts twice.
      const sampler = sampleNodeProcesses(workflowId);
      try {
        worker = await startWorkerProcess(taskQueue);
        const handle = await client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          // Every follow window ends in a hand-over: a chain of several runs within one short training.
          args: [{ spec, history: { eventBudget: 1, followWindowSeconds: 3 } }],
        });
        const training = async () =>
          master.last()?.starts === 1 && (await chainOf(client, workflowId, handle.firstExecutionRunId)).length >= 3;
        for (let i = 0; i < 1200 && !(await training()); i++) await sleep(250);
        assert.ok(!master.last()?.exited, `the job trains while the chain forms: ${JSON.stringify(master.last())}`);
        await worker.kill('SIGKILL');
        await sleep(2_000);
        worker = await startWorkerProcess(taskQueue);
        const summary = (await handle.result()) as RunSummary;

        const chain = await chainOf(client, workflowId, handle.firstExecutionRunId);
        t.diagnostic(`${chain.length} runs in the chain, at most ${Math.max(...chain.map((r) => r.events))} events each`);
        assert.ok(chain.length >= 3, `the run continued as new ${chain.length - 1} times`);
        const seen = master.last();
        assert.ok(seen?.exited, 'the master was read after its job ended');
        assert.deepEqual(seen.jobs, ['train-0'], 'one training job, none moved aside');
        assert.equal(seen.starts, 1, 'the job started once: every run re-attached to it');
        assert.equal(summary.training.globalStep, 150);
        assert.equal(summary.training.resumedStep, 0, 'never restarted from a checkpoint');
        assert.deepEqual(processesPerNode(await sampler.stop()), { master: 1, 'worker-1': 1 }, 'each node started once');
        assert.equal(summary.teardown.nodesLeft, 0);
        assert.equal(await liveNodeProcesses(workflowId), 0, 'no node process left');
        const record = (await runStoreOf(spec.name, workflowId).getJson('run.json')) as { outcome: string; steps: unknown[] };
        assert.equal(record.outcome, 'succeeded', 'the last run of the chain wrote run.json');
        assert.equal((await client.workflow.getHandle(workflowId).describe()).status.name, 'COMPLETED');
      } finally {
        master.stop();
        await sampler.stop();
        await close();
      }
    },
  );
});
