// The node watch's quorum on a real local run: when the worker loses its path to every node mid-training,
// nothing is replaced and the job it left running is followed again when the path returns; when it loses
// its path to one node while the others answer, that node is replaced. The cut is made in the worker's
// RemoteShell (its only way to the nodes): kept connections to the cut nodes are closed and every new
// one fails as a connect timeout would, while the nodes keep training among themselves.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { createRemoteShell, sshTarget, type RemoteShell } from '../src/remote/remote-shell';
import type { SshTarget } from '../src/remote/ssh-session';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import {
  liveNodeProcesses,
  processesPerNode,
  removeClustersStartingWith,
  sampleNodeProcesses,
  testDeps,
  testProvider,
} from './helpers/local-lab';
import { realActivities, uniqueId, withWorker } from './helpers/temporal';

const SAVE_STEPS = 100;
/** Long enough (about 2 minutes at this machine's ~20 steps/s) to hold both outages. */
const MAX_STEPS = 2500;
/**
 * The local watch calls a node lost about 6.5 s after its first missed probe (aws: ~50 s); an outage of
 * 30 s is more than four times that, so a watch without the quorum replaces every node in it.
 */
const OUTAGE_MS = 30_000;
const spec = {
  name: 'cut-off',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 3,
  training: { maxSteps: MAX_STEPS, saveSteps: SAVE_STEPS },
  sanity: { maxSteps: 3 },
};

/** The worker's RemoteShell with a switch that cuts its path to the nodes whose host keys are in `cut`. */
function cuttableShell(): RemoteShell & { cut: Set<string>; refused: number } {
  const real = createRemoteShell();
  const cut = new Set<string>();
  const shell = {
    ...real,
    cut,
    refused: 0,
    run: (target: SshTarget, command: string, options: Parameters<RemoteShell['run']>[2]) =>
      isCut(target) ? timeout(target) : real.run(target, command, options),
    check: (target: SshTarget, command: string, options: Parameters<RemoteShell['check']>[2]) =>
      isCut(target) ? timeout(target) : real.check(target, command, options),
    upload: (target: SshTarget, path: string, content: string | Buffer, options?: Parameters<RemoteShell['upload']>[3]) =>
      isCut(target) ? timeout(target) : real.upload(target, path, content, options),
  };
  const isCut = (target: SshTarget) => cut.has(target.hostKey);
  const timeout = async (target: SshTarget): Promise<never> => {
    shell.refused++;
    await sleep(1000);
    throw new Error(`connect ETIMEDOUT ${target.host}:${target.port}`);
  };
  return shell;
}

async function cutFor(shell: ReturnType<typeof cuttableShell>, clusterId: string, names: string[]): Promise<void> {
  const nodes = (await testProvider.listNodes({ clusterId, runName: spec.name })).filter((n) => names.includes(n.name));
  assert.equal(nodes.length, names.length, `nodes to cut: ${names.join(', ')}`);
  for (const node of nodes) shell.cut.add(node.hostKey);
  shell.release?.((target) => shell.cut.has(target.hostKey));
  await sleep(OUTAGE_MS);
  shell.cut.clear();
}

/** The last step the first training job (train-0) logged on the master, read over the test's own SSH path. */
async function loggedStep(clusterId: string): Promise<number> {
  const master = (await testProvider.listNodes({ clusterId, runName: spec.name })).find((n) => n.name === 'master');
  if (!master) return 0;
  const target = sshTarget(master, await testProvider.sshIdentity());
  const log = await createRemoteShell().run(target, 'cat tuneforge/jobs/train-0/log 2>/dev/null', { label: 'read log' });
  const steps = [...log.stdout.matchAll(/"event":"step","step":(\d+)/g)].map((m) => Number(m[1]));
  return steps.at(-1) ?? 0;
}

async function untilLogged(clusterId: string, step: number): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    const logged = await loggedStep(clusterId).catch(() => 0);
    if (logged >= step) return logged;
    await sleep(250);
  }
  assert.fail(`train-0 never logged step ${step}`);
}

describe("the worker's own network outage during distributed-train", () => {
  after(() => removeClustersStartingWith('cut-off-'));

  it(
    'cut from every node: nothing is replaced and the same job is followed on; cut from one node while the others answer: that node is replaced',
    { timeout: 10 * 60_000 },
    async () => {
      const workflowId = uniqueId('cut-off');
      const shell = cuttableShell();
      const sampler = sampleNodeProcesses(workflowId);
      // What the follower reports to the workflow (a signal in production; recorded here).
      const reported: Array<{ at: number; step: number; message?: string }> = [];
      const reportProgress = async (_workflowId: string, update: { step: number; message?: string }) => {
        reported.push({ at: Date.now(), step: update.step, ...(update.message ? { message: update.message } : {}) });
      };
      const summary = (await withWorker(realActivities(testDeps({ remote: shell, reportProgress })), async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
        const stepAtCut = await untilLogged(workflowId, SAVE_STEPS);
        const cutAt = Date.now();
        await cutFor(shell, workflowId, ['master', 'worker-1', 'worker-2']);
        // The workflow was told (the Web UI's details show it as a note), and told again when the path came back.
        const note = reported.find((r) => r.at >= cutAt && r.message !== undefined);
        assert.match(note?.message ?? '', /^the worker cannot reach the cluster since .*: no node answers, so none is replaced/);
        const stepAtReturn = await loggedStep(workflowId);
        assert.ok(shell.refused > 0, 'the worker tried the nodes during the outage and was refused');
        assert.ok(stepAtReturn > stepAtCut && stepAtReturn < MAX_STEPS, `the job trained on through the outage (${stepAtCut} -> ${stepAtReturn})`);
        const afterAll = await handle.query(progressQuery);
        assert.deepEqual(afterAll.recoveries, [], 'no node replaced for the worker\'s own outage');
        assert.deepEqual(processesPerNode(sampler.seen()), { master: 1, 'worker-1': 1, 'worker-2': 1 }, 'no node started twice');
        // Followed on: the follower reports steps past the outage from the same job (train-0), not a restart.
        const returnedAt = Date.now();
        const heard = () => reported.filter((r) => r.at >= returnedAt).map((r) => r.step);
        for (let i = 0; i < 240 && !heard().some((step) => step > stepAtReturn); i++) await sleep(250);
        assert.ok(heard().some((step) => step > stepAtReturn), `the follower reads the job again after the outage (${heard().join(', ')})`);
        const cleared = reported.find((r) => note && r.at > note.at && r.message === undefined);
        assert.ok(cleared && cleared.at - returnedAt < 15_000, 'a report without the note followed within seconds of the return');

        await cutFor(shell, workflowId, ['worker-1']);
        return handle.result();
      }).finally(() => sampler.stop())) as RunSummary;
      assert.equal(summary.recoveries, 1, 'only the second outage (one node, the others answering) cost a recovery');
      assert.equal(summary.training.globalStep, MAX_STEPS);
      assert.deepEqual(processesPerNode(await sampler.stop()), { master: 1, 'worker-1': 2, 'worker-2': 1 }, 'only the cut node was started again');
      assert.equal(await liveNodeProcesses(workflowId), 0);
    },
  );
});
