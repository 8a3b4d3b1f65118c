// A run whose training outlives its history: the workflow continues as new and the next run re-attaches
// to the same training job. Fake activities on the dev server drive hundreds of progress signals through
// a low event budget, so a chain of runs forms in seconds instead of a week.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STEP_NAMES, WORKFLOW_TYPE } from '../src/common/names';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import { buildListQuery } from '../src/client/commands/list';
import { progressQuery, type RunSummary } from '../src/workflows/definitions';
import { fakeActivities, RUN_ACTIVITIES } from './helpers/fake-activities';
import { clusterIdOf } from '../src/common/cluster-id';
import { temporalRunLookup } from '../src/worker/reaper-schedule';
import { fakeTraining } from './helpers/fake-training';
import { chainOf } from './helpers/run-chain';
import { testClient, uniqueId, withWorker } from './helpers/temporal';

const spec = { name: 'chain-test', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 600 } };

const EVENT_BUDGET = 300;
const SIGNALS_PER_WINDOW = 40;
const STEPS_PER_WINDOW = 30;
/** A run may pass its budget by at most one follow window's events: ~4 per signal, plus the activity's own. */
const WINDOW = { stepsPerWindow: STEPS_PER_WINDOW, signalsPerWindow: SIGNALS_PER_WINDOW };
const HISTORY_BOUND = EVENT_BUDGET + 4 * SIGNALS_PER_WINDOW + 20;

function comparable(summary: RunSummary) {
  return {
    training: summary.training,
    nodesLaunched: summary.nodesLaunched,
    recoveries: summary.recoveries,
    steps: summary.steps.map((s) => ({ name: s.name, note: s.note })),
    teardown: summary.teardown,
    artifacts: summary.artifacts,
    efficiency: summary.efficiency,
  };
}

describe('a run whose history fills up during training', () => {
  it(
    'continues as new, re-attaches to the one training job, keeps every run under the bound and ends with the same summary',
    { timeout: 5 * 60_000 },
    async (t) => {
      const { client, close } = await testClient();
      try {
        const totalSteps = spec.training.maxSteps;
        const chained = fakeTraining(client, totalSteps, WINDOW);
        const { activities, log } = fakeActivities({ distributedTrain: chained.distributedTrain });
        const workflowId = uniqueId('chain');
        const startedMs = Date.now();
        const { summary, firstRunId, midRunStage } = await withWorker(activities, async ({ client: c, taskQueue }) => {
          const handle = await c.workflow.start(WORKFLOW_TYPE, {
            taskQueue,
            workflowId,
            args: [{ spec, history: { eventBudget: EVENT_BUDGET, followWindowSeconds: 60 } }],
          });
          // Queries go to whichever run of the chain is current.
          let stage: string | undefined;
          for (let i = 0; i < 200 && !stage; i++) {
            const job = chained.jobs.get('train-0');
            if (job && job.windows >= 4) stage = (await handle.query(progressQuery)).stage;
            else await new Promise((r) => setTimeout(r, 100));
          }
          return { summary: (await handle.result()) as RunSummary, firstRunId: handle.firstExecutionRunId, midRunStage: stage };
        });
        const trainingMs = Date.now() - startedMs;
        assert.equal(midRunStage, 'distributed-train', 'the current run answers queries mid-chain');

        const runs = await chainOf(client, workflowId, firstRunId);
        t.diagnostic(`${runs.length} runs in the chain, at most ${Math.max(...runs.map((r) => r.events))} events each`);
        assert.ok(runs.length >= 4, `the run continued as new several times (${runs.length} runs)`);
        for (const run of runs)
          assert.ok(run.events <= HISTORY_BOUND, `run ${run.runId} has ${run.events} events (bound ${HISTORY_BOUND})`);
        const sent = (chained.jobs.get('train-0')?.windows ?? 0) * SIGNALS_PER_WINDOW;
        const received = runs.reduce((sum, run) => sum + run.signals, 0);
        assert.equal(received, sent, 'every progress signal reached a run of the chain, none lost at a hand-over');

        assert.deepEqual([...chained.jobs.keys()], ['train-0'], 'one training job');
        assert.equal(chained.jobs.get('train-0')?.starts, 1, 'started once, re-attached by every later run');
        assert.equal(chained.jobs.get('train-0')?.lostHandOvers, 0, "every follower got the previous one's progress");
        const once = RUN_ACTIVITIES.filter((a) => a !== 'distributedTrain');
        for (const name of once) assert.equal(log.calls.filter((c) => c === name).length, 1, `${name} ran once in the chain`);

        assert.equal(summary.training.globalStep, totalSteps);
        assert.deepEqual(
          summary.steps.map((s) => s.name),
          [...STEP_NAMES],
        );
        const trainSeconds = summary.steps.find((s) => s.name === 'distributed-train')?.seconds ?? 0;
        assert.ok(
          trainSeconds > 0.5 * (trainingMs / 1000) && trainSeconds <= trainingMs / 1000,
          `distributed-train's duration spans the chain (${trainSeconds} s of ${trainingMs / 1000} s)`,
        );

        // The same run without a chain ends with the same summary.
        const plain = fakeTraining(client, totalSteps, WINDOW);
        const single = fakeActivities({ distributedTrain: plain.distributedTrain });
        const unchained = (await withWorker(single.activities, async ({ client: c, taskQueue }) =>
          c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('unchained'), args: [{ spec }] }),
        )) as RunSummary;
        assert.deepEqual(comparable(summary), comparable(unchained));

        const description = await client.workflow.getHandle(workflowId).describe();
        assert.equal(description.status.name, 'COMPLETED');
        assert.equal(description.runId, runs[runs.length - 1]?.runId, 'the workflow id resolves to the last run');
        const attributes = description.typedSearchAttributes;
        assert.equal(attributes.get(SEARCH_ATTRIBUTES.runName), spec.name, 'search attributes carried over');
        assert.equal(attributes.get(SEARCH_ATTRIBUTES.model), summary.artifacts.model);
        assert.equal(attributes.get(SEARCH_ATTRIBUTES.recoveries), 0);

        // `tuneforge list` shows the chain as one run (visibility is eventually consistent).
        let listed: string[] = [];
        for (let i = 0; i < 50; i++) {
          listed = [];
          const query = `${buildListQuery({})} AND WorkflowId = '${workflowId}'`;
          for await (const info of client.workflow.list({ query })) listed.push(info.status.name);
          if (listed.length === 1 && listed[0] === 'COMPLETED') break;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.deepEqual(listed, ['COMPLETED']);
      } finally {
        await close();
      }
    },
  );

  it('a cancel mid-chain tears the cluster down once, from the run that is current', { timeout: 2 * 60_000 }, async () => {
    const { client, close } = await testClient();
    try {
      const chained = fakeTraining(client, 100_000, WINDOW);
      const { activities, log } = fakeActivities({ distributedTrain: chained.distributedTrain });
      const workflowId = uniqueId('chain-cancel');
      await withWorker(activities, async ({ client: c, taskQueue }) => {
        const handle = await c.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          args: [{ spec, history: { eventBudget: EVENT_BUDGET, followWindowSeconds: 60 } }],
        });
        for (let i = 0; i < 300 && (chained.jobs.get('train-0')?.windows ?? 0) < 12; i++)
          await new Promise((r) => setTimeout(r, 100));
        const current = await chainOf(client, workflowId, handle.firstExecutionRunId);
        assert.ok(current.length >= 2, 'continued as new before the cancel');
        assert.equal(
          await temporalRunLookup(client).isClosed(clusterIdOf(workflowId)),
          false,
          'the reaper sees the chain as open',
        );
        await handle.cancel();
        await assert.rejects(handle.result());
        const chain = await chainOf(client, workflowId, handle.firstExecutionRunId);
        assert.ok(chain.length >= 2, `the cancel reached a continued run (${chain.length} runs)`);
        assert.equal(await temporalRunLookup(client).isClosed(clusterIdOf(workflowId)), true);
        assert.equal((await handle.describe()).status.name, 'CANCELLED');
      });
      assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }], 'one teardown');
      assert.equal(log.calls.filter((c) => c === 'recordRun').length, 1);
    } finally {
      await close();
    }
  });
});
