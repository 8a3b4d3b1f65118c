// Whole runs on the dev server with the local provider: real nodes, SSH, MPI and training.
import assert from 'node:assert/strict';
import { qaF1 } from './helpers/scores';
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import { runArtifactsUri } from '../src/artifacts/artifact-uri';
import { createRemoteShell, sshTarget } from '../src/remote/remote-shell';
import {
  liveNodeProcesses,
  processesPerNode,
  removeClustersStartingWith,
  runStoreOf,
  sampleNodeProcesses,
  testDeps,
  testProvider,
  TEST_ARTIFACTS_URI,
  type NodeProcessSampler,
} from './helpers/local-lab';
import { RUN_ACTIVITIES } from './helpers/fake-activities';
import { realActivities, TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process';
import { untilNoSshConnection } from './helpers/tcp-connections';

const CLI = join(__dirname, '..', 'src', 'client', 'main.js');
const RECIPE_PYTHON = join(packageRoot(), '.tools/recipe-venv/bin/python');

/** Runs the tuneforge CLI as a user would; throws with its output on a non-zero exit. */
function tuneforge(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS } });
}

/** Runs a command on a cluster's master while it is up (after the run, the nodes are gone). */
async function masterShell(clusterId: string, runName: string): Promise<(command: string) => Promise<string>> {
  const ref = { clusterId, runName };
  const master = (await testProvider.listNodes(ref)).find((n) => n.name === 'master');
  assert.ok(master, 'the master is up');
  const target = sshTarget(master, await testProvider.sshIdentity());
  return async (command) => (await createRemoteShell().run(target, command, { label: command })).stdout;
}

/** Recomputes SQuAD EM/F1 from the stored predictions and the eval set, with the recipe's own scorer. */
function rescored(predictionsFile: string, evalFile: string): { exact_match: number; f1: number } {
  const script = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(join(packageRoot(), 'recipes/common'))})`,
    'import qa_data, qa_eval',
    'predictions = json.load(open(sys.argv[1]))',
    'golds = qa_eval.references(qa_data.load_json_rows(sys.argv[2]))',
    'print(json.dumps(qa_eval.squad_scores(predictions, golds)))',
  ].join('\n');
  return JSON.parse(execFileSync(RECIPE_PYTHON, ['-c', script, predictionsFile, evalFile], { encoding: 'utf8' })) as {
    exact_match: number;
    f1: number;
  };
}
const spec = {
  name: 'e2e',
  provider: 'local',
  recipe: 'tiny-qa',
  nodes: 3,
  training: { maxSteps: 30, saveSteps: 10 },
  sanity: { maxSteps: 5 },
};

interface HistoryEvent {
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
}

/** The run's history as `temporal workflow show` prints it. */
function scheduledActivities(workflowId: string): string[] {
  const temporal = join(packageRoot(), '.tools/venv/bin/temporal');
  const json = execFileSync(temporal, ['workflow', 'show', '--address', TEMPORAL_ADDRESS, '-w', workflowId, '--output', 'json'], {
    encoding: 'utf8',
  });
  const events = (JSON.parse(json) as { events: HistoryEvent[] }).events;
  return events
    .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
}

describe('a whole run on the local provider', () => {
  after(() => removeClustersStartingWith('e2e-', 'restart-'));

  it('completes the seven steps and teardown in order, loss goes down, no node is left', { timeout: 10 * 60_000 }, async () => {
    const workflowId = uniqueId('e2e');
    const { client, close } = await testClient();
    const deps = testDeps({
      reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
    });
    try {
      const sampler = sampleNodeProcesses(workflowId);
      const summary = (await withWorker(realActivities(deps), ({ client: c, taskQueue }) =>
        c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
      ).finally(() => sampler.stop())) as RunSummary;
      assert.deepEqual(scheduledActivities(workflowId), RUN_ACTIVITIES);
      assert.equal(summary.training.globalStep, 30);
      assert.equal(summary.training.worldSize, 3);
      const { firstLoss, finalLoss } = summary.training;
      assert.ok(
        firstLoss !== null && finalLoss !== null && finalLoss < firstLoss,
        `loss went down (${firstLoss} -> ${finalLoss})`,
      );
      assert.match(summary.training.lastCheckpoint ?? '', /checkpoint-30$/);
      assert.equal(summary.teardown.nodesLeft, 0);
      assert.equal(await liveNodeProcesses(workflowId), 0);
      // Teardown closed the worker's kept connections with the nodes (not an idle timeout later).
      assert.deepEqual(await untilNoSshConnection(process.pid, 5000), [], 'no SSH connection left in the worker');
      assert.deepEqual(
        processesPerNode(await sampler.stop()),
        { master: 1, 'worker-1': 1, 'worker-2': 1 },
        'one process per node',
      );

      // The product, through the CLI as a user would get it: listed, pulled, loaded, scored.
      const listed = JSON.parse(tuneforge('artifacts', workflowId, '--json')) as { uri: string; objects: Array<{ key: string }> };
      assert.equal(listed.uri, runArtifactsUri(TEST_ARTIFACTS_URI, spec.name, workflowId));
      const keys = listed.objects.map((o) => o.key);
      for (const key of [
        'model/config.json',
        'evaluation/eval_results.json',
        'evaluation/eval_predictions.json',
        'run.json',
        'checkpoints/checkpoint-30/_COMPLETE.json',
      ])
        assert.ok(keys.includes(key), `${key} stored (have ${keys.join(', ')})`);
      const scratch = await mkdtemp(join(tmpdir(), 'pulled-'));
      assert.match(tuneforge('pull', workflowId, join(scratch, 'model')), /Pulled \d+ file/);
      execFileSync(RECIPE_PYTHON, [join(packageRoot(), 'recipes/tiny-qa/make_assets.py'), '--out', join(scratch, 'assets')]);
      const answered = execFileSync(
        RECIPE_PYTHON,
        [
          join(packageRoot(), 'recipes/common/answer.py'),
          '--model',
          join(scratch, 'model'),
          '--eval_file',
          join(scratch, 'assets/data/eval.json'),
          '--max_seq_length',
          '96',
          '--doc_stride',
          '32',
        ],
        { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1' } },
      );
      assert.match(
        answered,
        /^Question: .+\nAnswer: .*\nExpected: .+/m,
        'the pulled model loads with from_pretrained and answers',
      );
      const store = runStoreOf(spec.name, workflowId);
      const results = (await store.getJson('evaluation/eval_results.json')) as {
        exact_match: number;
        f1: number;
        eval_samples: number;
      };
      assert.equal(results.eval_samples, 64);
      await store.downloadToLocal('evaluation', join(scratch, 'evaluation'));
      const again = rescored(join(scratch, 'evaluation/eval_predictions.json'), join(scratch, 'assets/data/eval.json'));
      assert.ok(
        Math.abs(again.f1 - results.f1) < 1e-6 && Math.abs(again.exact_match - results.exact_match) < 1e-6,
        `scores recomputed: ${JSON.stringify(again)} vs ${JSON.stringify(results)}`,
      );
      assert.equal(qaF1(summary.training.eval), results.f1, 'the summary shows the stored score');
      const record = (await store.getJson('run.json')) as { outcome: string; recipeFingerprint: string; lossCurve: unknown[] };
      assert.equal(record.outcome, 'succeeded');
      assert.match(record.recipeFingerprint, /^[0-9a-f]{32}$/);
      assert.ok(record.lossCurve.length >= 30, 'run.json holds a loss per step');

      // The nodes' logs outlive them. The master ran every job; mpirun's log holds every rank's lines, each
      // tagged with its rank. The workers ran none (the install log their image carries is the master's), and a
      // master launched from an image baked by an earlier run installs nothing (its image's install log is older).
      const logKeys = keys.filter((k) => k.startsWith('logs/')).sort();
      const installed = summary.imageReused ? [] : ['logs/master/install-<fingerprint>.log'];
      assert.deepEqual(
        logKeys.map((k) => k.replace(/install-[0-9a-f]{12}/, 'install-<fingerprint>')),
        [...installed, 'logs/master/sanity.log', 'logs/master/train-0.log'],
      );
      const trainLog = (await store.getText('logs/master/train-0.log')) ?? '';
      assert.match(trainLog, /^\[1,0\]<stdout>:TUNEFORGE \{"event":"done"/m, 'the trainer wrote it, rank 0 ending the run');
      assert.match(tuneforge('logs', workflowId, '--node', 'master'), /^==> master\/sanity <==\n[^]*TUNEFORGE \{"event":"step"/m);
      const rank0 = tuneforge('logs', workflowId, '--rank', '0').split('\n');
      assert.ok(
        rank0.some((line) => line.startsWith('TUNEFORGE {"event":"done"')),
        'rank 0 lines, their tag removed',
      );
      const ranks = new Set([...trainLog.matchAll(/^\[1,(\d+)\]</gm)].map((m) => m[1]));
      console.log(`ranks with lines in the training log: ${[...ranks].sort().join(', ')}`);
    } finally {
      await close();
    }
  });

  describe('when the worker process is killed during distributed-train', () => {
    let worker: WorkerProcess | undefined;
    let sampler: NodeProcessSampler | undefined;
    after(async () => {
      await sampler?.stop();
      await worker?.kill();
    });

    it(
      'a worker killed after a checkpoint: the restarted worker re-attaches to the same job, nothing launched or repeated',
      { timeout: 10 * 60_000 },
      async () => {
        const taskQueue = uniqueId('restart-queue');
        const workflowId = uniqueId('restart');
        const { client, close } = await testClient();
        try {
          worker = await startWorkerProcess(taskQueue);
          const long = { ...spec, name: 'restart', training: { maxSteps: 150, saveSteps: 20 } };
          sampler = sampleNodeProcesses(workflowId);
          const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: long }] });
          let checkpoint: string | null = null;
          for (let i = 0; i < 1200 && !checkpoint; i++) {
            // The sanity run saves a checkpoint too: wait for one of the training job.
            const training = (await handle.query(progressQuery)).training;
            checkpoint = training?.stage === 'distributed-train' ? training.lastCheckpoint : null;
            if (!checkpoint) await sleep(250);
          }
          assert.ok(checkpoint, 'the job wrote a checkpoint before the kill');
          await worker.kill('SIGKILL');
          assert.equal(await liveNodeProcesses(workflowId), 3, 'nodes outlive the worker');
          // With no worker at all, the detached job trains on to its end; a restart must not start it again.
          const master = await masterShell(workflowId, long.name);
          for (let i = 0; i < 600 && !(await master('test -f tuneforge/jobs/train-0/exit_code && echo yes')).includes('yes'); i++)
            await sleep(500);
          const jobs = (await master('ls tuneforge/jobs')).split('\n').filter((j) => j.startsWith('train'));
          assert.deepEqual(jobs, ['train-0'], 'one training job, none moved aside');
          const log = 'tuneforge/jobs/train-0/log';
          assert.equal((await master(`grep -c '"event":"start"' ${log}`)).trim(), '1', 'started once');
          assert.equal((await master(`grep -c '"event":"step"' ${log}`)).trim(), '150', 'each step once');
          worker = await startWorkerProcess(taskQueue);
          const summary = (await handle.result()) as RunSummary;
          assert.equal(summary.training.globalStep, 150);
          assert.equal(summary.training.resumedStep, 0, 'the training job was re-attached, not restarted from a checkpoint');
          const workerPid = worker.child.pid;
          assert.ok(workerPid !== undefined);
          assert.deepEqual(await untilNoSshConnection(workerPid, 5000), [], 'the worker process holds no SSH connection');
          const processes = processesPerNode(await sampler.stop());
          assert.deepEqual(processes, { master: 1, 'worker-1': 1, 'worker-2': 1 }, 'no node launched twice');
          assert.equal(await liveNodeProcesses(workflowId), 0);
          const scheduled = scheduledActivities(workflowId);
          assert.deepEqual(scheduled, RUN_ACTIVITIES, 'each step scheduled once (retries are attempts, not new steps)');
          const store = runStoreOf(long.name, workflowId);
          const record = (await store.getJson('run.json')) as { lossCurve: Array<{ step: number }> };
          const steps = record.lossCurve.map((p) => p.step);
          assert.equal(steps.length, 150, 'run.json has the loss of every step');
        } finally {
          await close();
        }
      },
    );
  });
});
