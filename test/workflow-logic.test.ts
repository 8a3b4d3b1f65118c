import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { FailureType } from '../src/common/errors';
import type { TrainInput, TrainResult } from '../src/activities/types';
import { STEP_NAMES, WORKFLOW_TYPE } from '../src/common/names';
import { progressQuery, type RunProgress, type RunSummary } from '../src/workflows/definitions';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import {
  FAKE_SCORES,
  FAKE_TRAIN_RESULT,
  failingWith,
  fakeActivities,
  pricedNodes,
  RUN_ACTIVITIES,
  untilCancelled,
} from './helpers/fake-activities';
import { uniqueId, withWorker, workflowBundle } from './helpers/temporal';

const spec = { name: 'logic-test', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 10 } };

function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof Error && current.cause) current = current.cause;
  return current;
}


/** A training job that runs until told to finish (finishBy), heartbeating, then finishes early; records when. */
function jobUntilTold(finishBys: number[]) {
  return async (input: TrainInput): Promise<TrainResult> => {
    const finishBy = Date.parse(input.finishBy ?? '');
    finishBys.push(finishBy);
    while (Date.now() < finishBy) {
      Context.current().heartbeat();
      await sleep(500);
    }
    return { ...FAKE_TRAIN_RESULT, globalStep: 7, finishedEarly: true };
  };
}

describe('run workflow (fake activities)', () => {
  it('runs the seven steps in order, then teardown, and returns the summary', async () => {
    const { activities, log } = fakeActivities();
    const summary = (await withWorker(activities, async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic'), args: [{ spec }] }),
    )) as RunSummary;
    assert.deepEqual(log.calls, RUN_ACTIVITIES);
    assert.deepEqual(
      summary.steps.map((s) => s.name),
      [...STEP_NAMES],
    );
    assert.equal(summary.artifacts.model, 'file:///fake/artifacts/run/wf/model/');
    assert.equal(summary.artifacts.runRecord, 'file:///fake/artifacts/run/wf/run.json');
    assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: true }]);
    const record = log.records[0] as { outcome?: string; modelUri?: string; packages?: object };
    assert.equal(record.outcome, 'succeeded');
    assert.equal(record.modelUri, summary.artifacts.model);
    assert.deepEqual(record.packages, { torch: '2.13.0' });
    assert.equal(summary.nodesLaunched, 3);
    assert.equal(summary.teardown.nodesLeft, 0);
    assert.equal(summary.efficiency.nodesShareCpus, true, 'the fake local cluster shares CPUs');
  });

  it('records whether the nodes share CPUs from the cluster the provider described', async () => {
    const base = fakeActivities().activities;
    const { activities } = fakeActivities({
      provisionMaster: async (input) => {
        const provisioned = await base.provisionMaster(input);
        return { ...provisioned, cluster: { ...provisioned.cluster, nodesShareCpus: false } };
      },
    });
    const summary = (await withWorker(activities, async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-cores'), args: [{ spec }] }),
    )) as RunSummary;
    assert.equal(summary.efficiency.nodesShareCpus, false);
  });

  it("carries the sanity run's bf16 kernels into the summary, the progress and run.json", async () => {
    const bf16 = { requested: true, kernels: 'none' as const };
    const base = fakeActivities().activities;
    const { activities, log } = fakeActivities({ sanityRun: async (input) => ({ ...(await base.sanityRun(input)), bf16 }) });
    const workflowId = uniqueId('logic-bf16');
    const [summary, progress] = (await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
      return [await handle.result(), await handle.query(progressQuery)];
    })) as [RunSummary, RunProgress];
    assert.deepEqual(summary.sanity.bf16, bf16);
    assert.deepEqual(progress.bf16, bf16);
    assert.deepEqual((log.records[0] as { bf16?: unknown }).bf16, bf16);
  });

  it('a run that fails after the sanity run still records its bf16 kernels in run.json', async () => {
    const bf16 = { requested: true, kernels: 'amx' as const };
    const base = fakeActivities().activities;
    const { activities, log } = fakeActivities({
      sanityRun: async (input) => ({ ...(await base.sanityRun(input)), bf16 }),
      distributedTrain: failingWith(FailureType.TrainingFailed),
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-bf16-fail'), args: [{ spec }] }),
      );
    });
    const record = log.records[0] as { outcome?: string; bf16?: unknown };
    assert.equal(record.outcome, 'failed');
    assert.deepEqual(record.bf16, bf16);
  });

  it('refuses an invalid spec before any activity runs', async () => {
    const { activities, log } = fakeActivities();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const bad = { ...spec, nodes: -1, recipe: 'nope' };
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-bad'), args: [{ spec: bad }] }),
        (err: unknown) => {
          const cause = rootCause(err);
          return (
            err instanceof WorkflowFailedError &&
            cause instanceof ApplicationFailure &&
            cause.type === FailureType.SpecInvalid &&
            /nodes/.test(cause.message) &&
            /recipe/.test(cause.message)
          );
        },
      );
    });
    assert.deepEqual(log.calls, []);
  });

  it('tears down after a failed step and keeps the original error', async () => {
    const { activities, log } = fakeActivities({ sanityRun: failingWith(FailureType.TrainingFailed) });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logic-fail'),
        args: [{ spec }],
      });
      await assert.rejects(
        handle.result(),
        (err: unknown) =>
          rootCause(err) instanceof ApplicationFailure &&
          (rootCause(err) as ApplicationFailure).type === FailureType.TrainingFailed,
      );
      // What the UI, watch and --follow show: the root cause, not "Activity task failed".
      const progress = await handle.query(progressQuery);
      const failed = progress.steps.find((step) => step.name === 'sanity-run');
      assert.equal(failed?.note, `${FailureType.TrainingFailed}: injected ${FailureType.TrainingFailed}`);
      assert.equal(progress.error, `${FailureType.TrainingFailed}: injected ${FailureType.TrainingFailed}`);
    });
    assert.deepEqual(log.calls.slice(-2), ['teardown', 'recordRun']);
    assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }], 'a failed run keeps every checkpoint');
    const record = log.records[0] as { outcome?: string; error?: { type: string; message: string }; modelUri?: string | null };
    assert.equal(record.outcome, 'failed');
    assert.deepEqual(record.error, { type: FailureType.TrainingFailed, message: `injected ${FailureType.TrainingFailed}` });
    assert.equal(record.modelUri, null);
  });

  it('an artifact store that cannot be used stops the run before anything is launched', async () => {
    const { activities, log } = fakeActivities({ prepareArtifacts: failingWith(FailureType.SpecInvalid) });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-store'), args: [{ spec }] }),
        (err: unknown) => (rootCause(err) as ApplicationFailure).type === FailureType.SpecInvalid,
      );
    });
    assert.deepEqual(log.calls, ['prepareArtifacts', 'teardown'], 'no node launched, no record without a store');
  });

  const lostNode = (node: string) =>
    ApplicationFailure.create({
      type: FailureType.NodeLost,
      nonRetryable: true,
      message: `${node} lost`,
      details: [{ nodes: [node], reason: 'gone' }],
    });

  it('a second loss while recovering from the first is recovered too, each lost node replaced once', async () => {
    const losses = ['worker-1', 'worker-2'];
    const base = fakeActivities().activities;
    const replaced: string[][] = [];
    const { activities, log } = fakeActivities({
      distributedTrain: async (input) => {
        const node = losses.shift();
        if (node) throw lostNode(node);
        return base.distributedTrain(input);
      },
      replaceNodes: async (input) => {
        replaced.push(input.nodes.map((n) => n.name));
        return base.replaceNodes(input);
      },
    });
    const summary = (await withWorker(activities, async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-second-loss'), args: [{ spec }] }),
    )) as RunSummary;
    assert.equal(summary.recoveries, 2);
    assert.deepEqual(replaced, [['worker-1'], ['worker-2']]);
    assert.equal(log.calls.filter((c) => c === 'distributedTrain').length, 3);
    assert.equal(summary.nodesLaunched, 5, '3 nodes, then one replacement per loss');
  });

  it('more losses than recovery.maxRecoveries allows fail the run as NodeLost and tear it down', async () => {
    const { activities, log } = fakeActivities({
      distributedTrain: async () => {
        throw lostNode('worker-1');
      },
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: uniqueId('logic-exhausted'),
          args: [{ spec: { ...spec, recovery: { maxRecoveries: 2 } } }],
        }),
        (err: unknown) => (rootCause(err) as ApplicationFailure).type === FailureType.NodeLost,
      );
    });
    assert.equal(log.calls.filter((c) => c === 'distributedTrain').length, 3, 'the first try and two recoveries');
    assert.equal(log.calls.filter((c) => c === 'replaceNodes').length, 2);
    assert.deepEqual(log.calls.slice(-2), ['teardown', 'recordRun']);
    assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }]);
  });

  it('a master lost before the model upload is replaced, training resumes from the store, and the model is delivered', async () => {
    let deliveries = 0;
    const base = fakeActivities().activities;
    const { activities, log } = fakeActivities({
      deliverModel: async (input) => {
        deliveries += 1;
        if (deliveries === 1)
          throw ApplicationFailure.create({
            type: FailureType.NodeLost,
            nonRetryable: true,
            message: 'master lost',
            details: [{ nodes: ['master'], reason: 'gone' }],
          });
        return base.deliverModel(input);
      },
    });
    const summary = (await withWorker(activities, async ({ client, taskQueue }) =>
      client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-deliver'), args: [{ spec }] }),
    )) as RunSummary;
    assert.deepEqual(log.calls.slice(7), [
      'distributedTrain',
      'deliverModel',
      'replaceMaster',
      'wireSsh',
      'distributedTrain',
      'deliverModel',
      'uploadLogs',
      'teardown',
      'recordRun',
    ]);
    assert.equal(summary.recoveries, 1);
    assert.equal(summary.artifacts.model, 'file:///fake/artifacts/run/wf/model/');
  });

  it('keeps the cluster on failure only when the spec asks', async () => {
    const { activities, log } = fakeActivities({ wireSsh: failingWith(FailureType.RemoteCommandFailed) });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const keep = { ...spec, keepClusterOnFailure: true };
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logic-keep'),
        args: [{ spec: keep }],
      });
      await assert.rejects(handle.result());
      assert.deepEqual((await handle.query(progressQuery)).keptAccess, ['master: ssh -i key -p 22 ubuntu@127.0.0.1']);
    });
    assert.deepEqual(log.teardownInputs, [{ keepCluster: true, succeeded: false }]);
  });

  it("a teardown failure after a failed run does not replace the run's error", async () => {
    const { activities } = fakeActivities({
      installDeps: failingWith(FailureType.RemoteCommandFailed),
      teardown: failingWith('TeardownBroken'),
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      await assert.rejects(
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-td'), args: [{ spec }] }),
        (err: unknown) => (rootCause(err) as ApplicationFailure).type === FailureType.RemoteCommandFailed,
      );
    });
  });

  it('tears down when cancelled mid-step and answers the progress query', async () => {
    const { activities, log } = fakeActivities({ bakeImage: () => untilCancelled() });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logic-cancel'),
        args: [{ spec }],
      });
      let stage = '';
      for (let i = 0; i < 100 && stage !== 'bake-image'; i++) {
        stage = (await handle.query(progressQuery)).stage;
        if (stage !== 'bake-image') await sleep(100);
      }
      assert.equal(stage, 'bake-image');
      await handle.cancel();
      await assert.rejects(handle.result(), (err: unknown) => rootCause(err) instanceof CancelledFailure);
    });
    assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }]);
  });

  it('a cancelled run starts teardown only after the provisioning step in flight has stopped', async () => {
    const events: string[] = [];
    const base = fakeActivities().activities;
    const { activities } = fakeActivities({
      provisionMaster: async () => {
        try {
          return await untilCancelled(1500);
        } finally {
          events.push('provision-master stopped');
        }
      },
      teardown: async (input) => {
        events.push('teardown started');
        return base.teardown(input);
      },
    });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logic-cancel-wait'),
        args: [{ spec }],
      });
      for (let i = 0; i < 100 && (await handle.query(progressQuery)).stage !== 'provision-master'; i++) await sleep(100);
      const cancelledAt = Date.now();
      await handle.cancel();
      await assert.rejects(handle.result(), (err: unknown) => rootCause(err) instanceof CancelledFailure);
      // The cancel reached the activity within the heartbeat throttle (5 s), plus its 1.5 s unwind.
      assert.ok(Date.now() - cancelledAt < 10_000, `the cancel took ${Date.now() - cancelledAt} ms`);
    });
    assert.deepEqual(events, ['provision-master stopped', 'teardown started']);
  });

  it('publishes the scores when training returns: summary, progress query, TuneforgeF1 and TuneforgeExactMatch', async () => {
    const { activities } = fakeActivities();
    await withWorker(activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logic-eval'),
        args: [{ spec }],
      });
      const summary = (await handle.result()) as RunSummary;
      assert.deepEqual(summary.training.eval, FAKE_SCORES);
      assert.deepEqual((await handle.query(progressQuery)).evaluation, { enabled: true, scores: FAKE_SCORES });
      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(SEARCH_ATTRIBUTES.f1), FAKE_SCORES.f1);
      assert.equal(attributes.get(SEARCH_ATTRIBUTES.exactMatch), FAKE_SCORES.exactMatch);
    });
  });

  it('sets no score attributes and reports evaluation off when the spec turns it off', async () => {
    const { activities } = fakeActivities({ distributedTrain: async () => ({ ...FAKE_TRAIN_RESULT, eval: null }) });
    await withWorker(activities, async ({ client, taskQueue }) => {
      const off = { ...spec, training: { ...spec.training, evaluate: false } };
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('logic-noeval'),
        args: [{ spec: off }],
      });
      assert.equal(((await handle.result()) as RunSummary).training.eval, null);
      assert.deepEqual((await handle.query(progressQuery)).evaluation, { enabled: false, scores: null });
      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(SEARCH_ATTRIBUTES.f1), undefined);
      assert.equal(attributes.get(SEARCH_ATTRIBUTES.exactMatch), undefined);
    });
  });

  it(
    'at training.timeoutMinutes the ranks finish early, the model is delivered, and the run ends TrainingTimedOut',
    { timeout: 3 * 60_000 },
    async () => {
      const finishBys: number[] = [];
      const { activities, log } = fakeActivities({ distributedTrain: jobUntilTold(finishBys) });
      const oneMinute = { ...spec, keepClusterOnFailure: true, training: { ...spec.training, timeoutMinutes: 1 } };
      const started = Date.now();
      await withWorker(activities, async ({ client, taskQueue }) => {
        await assert.rejects(
          client.workflow.execute(WORKFLOW_TYPE, {
            taskQueue,
            workflowId: uniqueId('logic-timeout'),
            args: [{ spec: oneMinute }],
          }),
          (err: unknown) => {
            const cause = rootCause(err);
            return (
              cause instanceof ApplicationFailure &&
              cause.type === FailureType.TrainingTimedOut &&
              cause.message.includes('file:///fake/artifacts/run/wf/model/')
            );
          },
        );
      });
      const finishBy = finishBys[0] ?? 0;
      assert.ok(finishBy > started + 50_000 && finishBy < started + 70_000, 'told to finish a minute into training');
      assert.equal(log.calls.filter((c) => c === 'deliverModel').length, 1, 'the model trained so far is delivered');
      assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }], 'a cap never keeps the cluster');
    },
  );

  it('at budgetUsd the ranks finish early, the model is delivered, and the run ends BudgetExceeded', async () => {
    const finishBys: number[] = [];
    const { activities, log } = fakeActivities({ ...pricedNodes(55), distributedTrain: jobUntilTold(finishBys) });
    // 3 nodes at $360/h ($0.10/s each), billed a minute at least: $18 at once, $19.50 five seconds past the minute.
    const capped = { ...spec, keepClusterOnFailure: true, budgetUsd: 19.5, local: { pricePerHourUsd: 360 } };
    const started = Date.now();
    let failure: ApplicationFailure | undefined;
    await withWorker(activities, async ({ client, taskQueue }) => {
      await client.workflow
        .execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-budget'), args: [{ spec: capped }] })
        .catch((err: unknown) => (failure = rootCause(err) as ApplicationFailure));
    });
    assert.equal(failure?.type, FailureType.BudgetExceeded, String(failure));
    assert.match(failure?.message ?? '', /budgetUsd \(\$19\.50; spent \$19\.[5-9]\d\).*model trained so far is in file:/);
    const finishBy = finishBys[0] ?? 0;
    assert.ok(
      finishBy > started && finishBy < started + 15_000,
      `told to finish when the spend reaches the budget (${finishBy - started} ms)`,
    );
    assert.equal(log.calls.filter((c) => c === 'deliverModel').length, 1);
    assert.deepEqual(log.teardownInputs, [{ keepCluster: false, succeeded: false }]);
  });

  it('a budget spent before training ends the run before the next step, with nothing trained', async () => {
    const { activities, log } = fakeActivities(pricedNodes(0));
    const capped = { ...spec, budgetUsd: 5, local: { pricePerHourUsd: 360 } };
    let failure: ApplicationFailure | undefined;
    await withWorker(activities, async ({ client, taskQueue }) => {
      await client.workflow
        .execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('logic-broke'), args: [{ spec: capped }] })
        .catch((err: unknown) => (failure = rootCause(err) as ApplicationFailure));
    });
    assert.equal(failure?.type, FailureType.BudgetExceeded);
    assert.match(failure?.message ?? '', /\$6\.00\) reached budgetUsd \(\$5\.00\) before install-deps; no model was trained/);
    assert.deepEqual(log.calls, ['prepareArtifacts', 'provisionMaster', 'uploadLogs', 'teardown', 'recordRun']);
  });

  it('bundles workflow code without AWS SDK, ssh2 or Node built-ins', async () => {
    const { code } = await workflowBundle();
    for (const forbidden of ['@aws-sdk/', 'node_modules/ssh2/', 'child_process', 'node:fs']) {
      assert.equal(code.includes(forbidden), false, `workflow bundle contains ${forbidden}`);
    }
  });
});
