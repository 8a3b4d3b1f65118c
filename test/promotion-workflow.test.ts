// The gate inside the run workflow (dev server, fake node activities, the real promote-model activity on a
// folder store): runs of one name promoted or not by their score, the pointer untouched by a run that fails
// the gate, the decision in the summary, run.json and search attributes, and `tuneforge models` reading it all.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { createPromoteActivities } from '../src/activities/promote-model';
import { formatArtifactUri, runArtifactsUri } from '../src/artifacts/artifact-uri';
import { createStoreOpener } from '../src/artifacts/open-store';
import type { ModelHistory } from '../src/client/commands/models';
import { createSchedule, describeSchedule, prepareSchedule, triggerSchedule } from '../src/client/commands/schedule';
import { clientSettings } from '../src/client/connection';
import { WORKFLOW_TYPE } from '../src/common/names';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import type { RunSummary } from '../src/workflows/definitions';
import { FAKE_SCORES, FAKE_TRAIN_RESULT, fakeActivities } from './helpers/fake-activities';
import { TEMPORAL_ADDRESS, testClient, uniqueId, withWorker } from './helpers/temporal';

const CLI = join(__dirname, '..', 'src', 'client', 'main.js');
const roots: string[] = [];
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

function tuneforge(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS } });
}

/** Fake node steps around the real store activities: each run's F1 comes from `scores` by workflow id. */
function storeBackedActivities(scores: Map<string, number> | number[], name = 'gated') {
  const openStore = createStoreOpener();
  const runUri = () => runArtifactsUriOf(Context.current().info.workflowExecution?.workflowId ?? '');
  let base = '';
  const runArtifactsUriOf = (workflowId: string) => runArtifactsUri(base, name, workflowId);
  const { activities, log } = fakeActivities({
    ...createPromoteActivities({ openStore }),
    prepareArtifacts: async () => ({ uri: runUri() }),
    distributedTrain: async () => {
      const id = Context.current().info.workflowExecution?.workflowId ?? '';
      const f1 = (Array.isArray(scores) ? scores.shift() : scores.get(id)) ?? 0;
      return { ...FAKE_TRAIN_RESULT, eval: { ...FAKE_SCORES, f1 } };
    },
    deliverModel: async () => ({
      modelUri: `${runUri()}model/`,
      evaluationUri: null,
      files: 1,
      bytes: 1,
      uploadSeconds: 0,
      packages: {},
      lossCurve: [],
    }),
    recordRun: async (input) => {
      const store = openStore(input.artifacts ?? '', 'us-east-1');
      await store.putJson('run.json', input.record);
      return `${store.uri}run.json`;
    },
  });
  return { activities, log, setBase: (uri: string) => (base = uri) };
}

/** A tiny-qa spec of this name gated on F1 >= 50, storing under `artifacts`. */
function gatedSpec(name: string, artifacts: string) {
  return {
    name,
    provider: 'local',
    recipe: 'tiny-qa',
    nodes: 2,
    training: { maxSteps: 10 },
    artifacts,
    promote: { metric: 'f1', min: 50 },
  };
}

describe('promotion gate in the run workflow', () => {
  it('promotes the first good run, keeps the pointer through a worse one, then promotes a better one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tuneforge-gated-'));
    roots.push(root);
    const base = formatArtifactUri({ kind: 'file', path: root });
    const spec = gatedSpec('gated', base);
    const scores = new Map<string, number>();
    const fake = storeBackedActivities(scores);
    fake.setBase(base);
    const pointerPath = join(root, 'gated', 'current.json');
    const ids = ['first', 'worse', 'below', 'better'].map((n) => uniqueId(`gated-${n}`));
    const [first, worse, below, better] = ids as [string, string, string, string];
    scores.set(first, 60).set(worse, 59).set(below, 40).set(better, 75);

    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const run = async (workflowId: string) => {
        const summary = (await client.workflow.execute(WORKFLOW_TYPE, {
          taskQueue,
          workflowId,
          args: [{ spec }],
        })) as RunSummary;
        const attrs = (await client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
        return { summary, promoted: attrs.get(SEARCH_ATTRIBUTES.promoted) };
      };

      const one = await run(first);
      assert.equal(one.summary.promotion?.promoted, true);
      assert.equal(one.promoted, true);
      const pointerAfterFirst = await readFile(pointerPath, 'utf8');
      assert.deepEqual(
        { ...JSON.parse(pointerAfterFirst), promotedAt: 'x' },
        { workflowId: first, model: `${runArtifactsUri(base, 'gated', first)}model/`, metric: 'f1', value: 60, promotedAt: 'x' },
      );

      // A worse model and one under the minimum: both runs succeed, neither moves the pointer by a byte.
      for (const [id, why] of [
        [worse, /f1 59\.00 does not beat the current model's 60\.00/],
        [below, /f1 40\.00 is below the minimum 50\.00/],
      ] as const) {
        const r = await run(id);
        assert.equal(r.summary.promotion?.promoted, false);
        assert.match(r.summary.promotion?.reason ?? '', why);
        assert.equal(r.promoted, false);
        assert.equal(await readFile(pointerPath, 'utf8'), pointerAfterFirst, `${id} left the pointer as it was`);
        const record = JSON.parse(await readFile(join(root, 'gated', id, 'run.json'), 'utf8'));
        assert.equal(record.outcome, 'succeeded');
        assert.deepEqual(record.promotion, r.summary.promotion);
        assert.deepEqual(record.promotion.current, { workflowId: first, value: 60 });
      }

      const three = await run(better);
      assert.equal(three.summary.promotion?.promoted, true);
      assert.deepEqual(three.summary.promotion?.current, { workflowId: first, value: 60 });
      assert.equal(JSON.parse(await readFile(pointerPath, 'utf8')).workflowId, better);
    });

    // The history as a user reads it: from the store named on the command line, and found from the runs' attributes.
    for (const args of [['--artifacts', base], []]) {
      const history = JSON.parse(tuneforge('models', 'gated', '--json', ...args)) as ModelHistory;
      assert.equal(history.uri, `${base}gated/`);
      assert.equal(history.current?.workflowId, better);
      const byId = new Map(history.runs.map((r) => [r.workflowId, r]));
      assert.deepEqual(
        ids.map((id) => [byId.get(id)?.promoted, byId.get(id)?.current, byId.get(id)?.metrics.f1]),
        [
          [true, false, 60],
          [false, false, 59],
          [false, false, 40],
          [true, true, 75],
        ],
      );
      assert.deepEqual(history.runs[0]?.data, { train: null, validation: null }, 'no data hashes recorded by these runs');
      assert.equal(history.runs[0]?.workflowId, better, 'newest first');
    }
    const table = tuneforge('models', 'gated', '--artifacts', base);
    assert.match(table, new RegExp(`current: ${better} \\(f1 75\\.00`));
    assert.match(table, new RegExp(`\\*\\s+\\S+\\s+${better}\\s+succeeded\\s+-/-\\s+exact_match=62\\.50 f1=75\\.00\\s+yes`));
    assert.match(table, /no: f1 59\.00 does not beat the current model's 60\.00/);
  });

  it('scheduled runs of a name: each a new workflow id, each decided against the pointer the one before left', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tuneforge-gated-schedule-'));
    roots.push(root);
    const base = formatArtifactUri({ kind: 'file', path: root });
    const spec = gatedSpec('weekly', base);
    const specPath = join(root, 'weekly.yaml');
    await writeFile(specPath, JSON.stringify(spec));
    const fake = storeBackedActivities([60, 55], 'weekly');
    fake.setBase(base);
    const scheduleId = uniqueId('weekly');
    const runs: string[] = [];
    await withWorker(fake.activities, async ({ client, taskQueue }) => {
      const settings = { ...clientSettings(process.env), address: TEMPORAL_ADDRESS, taskQueue };
      await createSchedule(
        client,
        settings,
        await prepareSchedule(specPath, { id: scheduleId, every: '7d', catchupWindow: '10 minutes', paused: true }),
      );
      try {
        for (let i = 1; i <= 2; i++) {
          // A scheduled run's id is the schedule id and the time to the second: the next trigger must be a second later.
          await sleep(1100);
          await triggerSchedule(client, scheduleId);
          let view = await describeSchedule(client, scheduleId);
          while (view.recentRuns.length < i) view = await sleep(200).then(() => describeSchedule(client, scheduleId));
          const id = view.recentRuns[i - 1]?.workflowId ?? '';
          await client.workflow.getHandle(id).result();
          runs.push(id);
        }
      } finally {
        await client.schedule.getHandle(scheduleId).delete();
      }
    });
    const [first, second] = runs as [string, string];
    assert.notEqual(first, second);
    for (const id of runs) assert.ok(id.startsWith(`${scheduleId}-`), id);
    const pointer = JSON.parse(await readFile(join(root, 'weekly', 'current.json'), 'utf8'));
    assert.equal(pointer.workflowId, first);
    const record = JSON.parse(await readFile(join(root, 'weekly', second, 'run.json'), 'utf8'));
    assert.equal(record.outcome, 'succeeded');
    assert.equal(record.promotion.promoted, false);
    assert.deepEqual(record.promotion.current, { workflowId: first, value: 60 });
  });

  it('a cancel that arrives while the gate writes the pointer does not split the decision from the pointer', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tuneforge-gated-cancel-'));
    roots.push(root);
    const base = formatArtifactUri({ kind: 'file', path: root });
    const spec = gatedSpec('gated', base);
    const workflowId = uniqueId('gated-cancel');
    const fake = storeBackedActivities(new Map([[workflowId, 80]]));
    fake.setBase(base);
    const { client: canceller, close } = await testClient();
    const promote = createPromoteActivities({ openStore: createStoreOpener() }).promoteModel;
    try {
      const activities = {
        ...fake.activities,
        promoteModel: async (input: Parameters<typeof promote>[0]) => {
          // The cancel request is in the run's history before the gate returns.
          await canceller.workflow.getHandle(input.workflowId).cancel();
          return promote(input);
        },
      };
      const summary = (await withWorker(activities, ({ client, taskQueue }) =>
        client.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
      )) as RunSummary;
      assert.equal(summary.promotion?.promoted, true);
      assert.equal(JSON.parse(await readFile(join(root, 'gated', 'current.json'), 'utf8')).workflowId, workflowId);
      const record = JSON.parse(await readFile(join(root, 'gated', workflowId, 'run.json'), 'utf8'));
      assert.equal(record.outcome, 'succeeded');
      assert.equal(record.promotion.promoted, true);
    } finally {
      await close();
    }
  });

  it('refuses a run name or store an attacker would pass to tuneforge models', () => {
    for (const args of [
      ['../etc', '--artifacts', 'file:///tmp'],
      ['Bad_Name', '--artifacts', 'file:///tmp'],
      ['ok-name', '--artifacts', 'file://relative'],
      ['ok-name', '--artifacts', 's3://UPPER/x'],
    ]) {
      assert.throws(
        () => execFileSync(process.execPath, [CLI, 'models', ...args], { encoding: 'utf8', stdio: 'pipe' }),
        (err: { status?: number }) => err.status === 2,
        JSON.stringify(args),
      );
    }
  });
});
