// Where the run's own data enters the workflow (fake activities on the dev server): checked before any node,
// hub datasets checked on the master before any worker, staged on every node before the sanity run and on
// each replacement after a recovery, recorded in run.json; a hub model downloaded by the master before any worker
// and copied from the master to every node (replacements too), its commit in run.json and the summary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../src/activities';
import type { HubStageInput } from '../src/activities/hub-model';
import type { StageInput } from '../src/activities/run-inputs';
import type { RunContext } from '../src/activities/types';
import { FailureType } from '../src/common/errors';
import { WORKFLOW_TYPE } from '../src/common/names';
import type { CheckedInputs } from '../src/data/check-inputs';
import { formatSummary } from '../src/client/format';
import type { RunSummary } from '../src/workflows/definitions';
import { failingWith, fakeActivities, fakeNode } from './helpers/fake-activities';
import { uniqueId, withWorker } from './helpers/temporal';

const own = {
  name: 'inputs-logic',
  provider: 'local',
  task: 'text-classification',
  model: { path: '/models/mine' },
  data: { train: '/data/train.csv', validation: 's3://my-bucket/eval.jsonl' },
  nodes: 3,
  training: { maxSteps: 10 },
};
const hub = {
  ...own,
  model: 'org/model',
  data: { train: { hub: 'org/reviews', split: 'train' }, validation: { hub: 'org/reviews', split: 'test' } },
};

const CHECKED: CheckedInputs = {
  train: {
    kind: 'path',
    source: '/data/train.csv',
    format: 'csv',
    sha256: 'a'.repeat(64),
    bytes: 10,
    rows: 4,
    truncated: false,
    labels: ['neg', 'pos'],
  },
  validation: {
    kind: 'uri',
    source: 's3://my-bucket/eval.jsonl',
    format: 'jsonl',
    sha256: 'b'.repeat(64),
    bytes: 9,
    rows: 2,
    truncated: false,
    labels: ['pos'],
  },
  model: { kind: 'path', source: '/models/mine', sha256: 'c'.repeat(64), files: 3 },
};

function run(activities: ReturnType<typeof fakeActivities>['activities'], spec: object) {
  return withWorker(activities, async ({ client, taskQueue }) =>
    client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('inputs-logic'), args: [{ spec }] }),
  );
}

describe('run inputs in the workflow (fake activities)', () => {
  it('checks before any node, stages on every node before the sanity run, and records task, model and data', async () => {
    const staged: StageInput[] = [];
    const checked: RunContext[] = [];
    const { activities, log } = fakeActivities({
      checkInputs: async (ctx) => {
        checked.push(ctx);
        return CHECKED;
      },
      stageInputs: async (input) => {
        staged.push(input);
        return [];
      },
    });
    await run(activities, own);
    assert.deepEqual(log.calls.slice(0, 9), [
      'prepareArtifacts',
      'checkInputs',
      'provisionMaster',
      'installDeps',
      'bakeImage',
      'launchWorkers',
      'wireSsh',
      'stageInputs',
      'sanityRun',
    ]);
    assert.equal(checked[0]?.artifacts, 'file:///fake/artifacts/run/wf/', 'the store is checked first');
    assert.deepEqual(
      staged[0]?.nodes.map((n) => n.name),
      ['master', 'worker-1', 'worker-2'],
    );
    assert.deepEqual(staged[0]?.inputs, CHECKED, 'staged what was checked, hashes included');
    const record = log.records[0] as Record<string, unknown>;
    assert.equal(record.task, 'text-classification');
    assert.deepEqual(record.model, { source: '/models/mine', sha256: 'c'.repeat(64) });
    assert.deepEqual(record.data, {
      train: { source: '/data/train.csv', sha256: 'a'.repeat(64), rows: 4 },
      validation: { source: 's3://my-bucket/eval.jsonl', sha256: 'b'.repeat(64), rows: 2 },
    });
  });

  it('refused data ends the run before any node is launched', async () => {
    const { activities, log } = fakeActivities({ checkInputs: failingWith(FailureType.SpecInvalid) });
    await assert.rejects(run(activities, own), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      return true;
    });
    assert.deepEqual(log.calls, ['prepareArtifacts', 'checkInputs', 'teardown', 'recordRun']);
  });

  it('checks a hub dataset on the master after the bake and before any worker; a refusal launches none', async () => {
    const { activities, log } = fakeActivities({ checkHubData: failingWith(FailureType.SpecInvalid) });
    await assert.rejects(run(activities, hub));
    assert.deepEqual(log.calls, [
      'prepareArtifacts',
      'provisionMaster',
      'installDeps',
      'bakeImage',
      'fetchHubData',
      'checkHubData',
      'uploadLogs',
      'teardown',
      'recordRun',
    ]);
  });

  it('downloads a hub dataset on the master before any worker: an unknown one launches none, a known one is pushed to every node and recorded', async () => {
    const refused = fakeActivities({ fetchHubData: failingWith(FailureType.SpecInvalid) });
    await assert.rejects(run(refused.activities, hub));
    assert.deepEqual(refused.log.calls, [
      'prepareArtifacts',
      'provisionMaster',
      'installDeps',
      'bakeImage',
      'fetchHubData',
      'uploadLogs',
      'teardown',
      'recordRun',
    ]);
    const commit = 'f'.repeat(40);
    const seen: Array<Array<string | undefined>> = [];
    const { activities, log } = fakeActivities({
      fetchHubData: async () => ({ id: 'org/reviews', revision: 'main', commit, files: 2, bytes: 100 }),
      checkHubData: async (input) => {
        seen.push(['checkHubData', input.hubData?.commit]);
        return { trainRows: 1, validationRows: 1 };
      },
      stageHubRepos: async (input) => {
        seen.push(['stageHubRepos', input.hubData?.commit, ...input.nodes.map((n) => n.name)]);
        return { pushed: [] };
      },
      sanityRun: async (input) => {
        seen.push(['sanityRun', input.hubData?.commit]);
        return fakeActivities().activities.sanityRun(input);
      },
      distributedTrain: async (input) => {
        seen.push(['distributedTrain', input.hubData?.commit]);
        return fakeActivities().activities.distributedTrain(input);
      },
    });
    await run(activities, hub);
    assert.ok(log.calls.indexOf('checkHubData') < log.calls.indexOf('launchWorkers'));
    // The check, the sanity run and the training all read the master's download of that commit, which the master
    // pushes to every node before the sanity run (their commands pass it on).
    assert.deepEqual(seen, [
      ['checkHubData', commit],
      ['stageHubRepos', commit, 'master', 'worker-1', 'worker-2'],
      ['sanityRun', commit],
      ['distributedTrain', commit],
    ]);
    const record = log.records[0] as { data: Record<string, unknown> };
    assert.deepEqual(record.data, {
      train: { source: 'org/reviews:train', revision: 'main', commit },
      validation: { source: 'org/reviews:test', revision: 'main', commit },
    });
  });

  it('stages the data on a replacement node after a recovery, and only there', async () => {
    const staged: string[][] = [];
    const { activities } = fakeActivities({
      checkInputs: async () => CHECKED,
      stageInputs: async (input) => {
        staged.push(input.nodes.map((n) => n.name));
        return [];
      },
      distributedTrain: losesNodeOnce('worker-1'),
      replaceNodes: async (input) => input.nodes.map((n) => fakeNode(n.name)),
    });
    await run(activities, own);
    assert.deepEqual(staged, [['master', 'worker-1', 'worker-2'], ['worker-1']]);
  });

  const hubModel = { ...own, model: { hub: 'org/model', revision: 'v2' } };
  const HUB_CHECKED: CheckedInputs = { ...CHECKED, model: { kind: 'hub', source: 'org/model@v2' } };
  const COMMIT = 'd'.repeat(40);
  const fetched = async (input: RunContext) => ({
    id: 'org/model',
    revision: 'v2',
    commit: input.hubModel?.commit ?? COMMIT,
    files: 4,
    bytes: 1000,
  });

  it('downloads a hub model on the master after the bake and before any worker, copies it from the master, records the commit', async () => {
    const stagedHub: HubStageInput[] = [];
    const { activities, log } = fakeActivities({
      checkInputs: async () => HUB_CHECKED,
      fetchHubModel: fetched,
      stageHubRepos: async (input) => {
        stagedHub.push(input);
        return { pushed: [] };
      },
    });
    const summary = (await run(activities, hubModel)) as RunSummary;
    assert.deepEqual(log.calls.slice(0, 11), [
      'prepareArtifacts',
      'checkInputs',
      'provisionMaster',
      'installDeps',
      'bakeImage',
      'fetchHubModel',
      'launchWorkers',
      'wireSsh',
      'stageHubRepos',
      'stageInputs',
      'sanityRun',
    ]);
    assert.equal(stagedHub[0]?.master.name, 'master');
    assert.deepEqual(
      stagedHub[0]?.nodes.map((n) => n.name),
      ['master', 'worker-1', 'worker-2'],
    );
    assert.equal(stagedHub[0]?.hubModel?.commit, COMMIT);
    const record = log.records[0] as Record<string, unknown>;
    assert.deepEqual(record.model, { source: 'org/model@v2', revision: 'v2', commit: COMMIT });
    assert.equal(summary.hubModel?.commit, COMMIT);
    assert.match(formatSummary(summary), new RegExp(`^Hub model: +org/model@v2 = commit ${COMMIT} `, 'm'));
  });

  it('a hub model the hub refuses ends the run before any worker is launched', async () => {
    const { activities, log } = fakeActivities({
      checkInputs: async () => HUB_CHECKED,
      fetchHubModel: failingWith(FailureType.SpecInvalid),
    });
    await assert.rejects(run(activities, hubModel));
    assert.deepEqual(log.calls, [
      'prepareArtifacts',
      'checkInputs',
      'provisionMaster',
      'installDeps',
      'bakeImage',
      'fetchHubModel',
      'uploadLogs',
      'teardown',
      'recordRun',
    ]);
  });

  it('copies the hub model from the master to a replacement node after a recovery, and only there', async () => {
    const stagedHub: string[][] = [];
    const { activities } = fakeActivities({
      checkInputs: async () => HUB_CHECKED,
      fetchHubModel: fetched,
      stageHubRepos: async (input) => {
        stagedHub.push([input.master.name, ...input.nodes.map((n) => n.name)]);
        return { pushed: [] };
      },
      distributedTrain: losesNodeOnce('worker-2'),
    });
    await run(activities, hubModel);
    assert.deepEqual(stagedHub, [
      ['master', 'master', 'worker-1', 'worker-2'],
      ['master', 'worker-2'],
    ]);
  });

  it('copies the hub dataset from the master to a replacement node after a recovery, and only there', async () => {
    const commit = 'd'.repeat(40);
    const stagedHub: string[][] = [];
    const { activities } = fakeActivities({
      fetchHubData: async () => ({ id: 'org/reviews', revision: 'main', commit, files: 3, bytes: 300 }),
      stageHubRepos: async (input) => {
        stagedHub.push([input.hubData?.commit ?? 'none', ...input.nodes.map((n) => n.name)]);
        return { pushed: [] };
      },
      distributedTrain: losesNodeOnce('worker-2'),
    });
    await run(activities, hub);
    assert.deepEqual(stagedHub, [
      [commit, 'master', 'worker-1', 'worker-2'],
      [commit, 'worker-2'],
    ]);
  });
});

/** A distributedTrain that loses `node` on its first attempt (NodeLost, as the node watch reports it), then trains. */
function losesNodeOnce(node: string): Activities['distributedTrain'] {
  let attempts = 0;
  return async (input) => {
    attempts += 1;
    if (attempts === 1)
      throw ApplicationFailure.create({
        type: FailureType.NodeLost,
        nonRetryable: true,
        message: `${node} lost`,
        details: [{ nodes: [node], reason: 'gone' }],
      });
    return (await fakeActivities().activities.distributedTrain(input)) as never;
  };
}
