// A whole 2-node local run whose data is a hub dataset served by a stand-in hub (test/helpers/stand-in-hub.ts,
// HF_ENDPOINT on the worker) and whose model is a local folder: the master downloads the dataset repo once at
// the resolved commit and pushes it to the other node, the ranks read that copy offline with the datasets
// library (--dataset_dir), so the hub serves each file of the repo exactly once; run.json carries the commit.
// The node venv gets datasets==5.2.0 (common/requirements-hub-data.txt) from the package index: the first run
// of that fingerprint installs it, and the test reports how long install-deps took.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { recipeFor } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, removeClustersStartingWith, runStoreOf, testDeps } from './helpers/local-lab';
import { startStandInHub, type StandInHub } from './helpers/stand-in-hub';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';

const RECIPE_PYTHON = join(packageRoot(), '.tools/recipe-venv/bin/python');
const DATASET = 'tuneforge-test/tiny-cls-data';
const MAX_STEPS = 12;

// What datasets needs to find the splits in a plain folder of CSVs: the hub's README configs.
const DATASET_CARD = `---
configs:
- config_name: default
  data_files:
  - split: train
    path: train.csv
  - split: validation
    path: validation.csv
---
# tiny-cls data for tuneforge's tests
`;

interface RunRecord {
  outcome: string;
  data: Record<'train' | 'validation', { source: string; revision?: string; commit?: string }>;
  metrics: Record<string, number> | null;
}

describe('a run on a hub dataset from a stand-in hub', () => {
  let scratch: string;
  let hub: StandInHub;
  let modelDir: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hub-data-'));
    execFileSync(RECIPE_PYTHON, [join(packageRoot(), 'recipes/tiny-cls/make_assets.py'), '--out', join(scratch, 'assets')]);
    modelDir = join(scratch, 'model');
    await cp(join(scratch, 'assets/model'), modelDir, { recursive: true });
    await cp(join(scratch, 'assets/tokenizer'), modelDir, { recursive: true });
    hub = await startStandInHub();
  });

  after(async () => {
    await removeClustersStartingWith('hub-data-');
    await hub?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it(
    'downloads the dataset once on the master, trains and evaluates on 2 nodes from its copy, records the commit',
    { timeout: 25 * 60_000 },
    async (t) => {
      const repo = join(scratch, 'dataset');
      await mkdir(repo);
      await cp(join(scratch, 'assets/data/train.csv'), join(repo, 'train.csv'));
      await cp(join(scratch, 'assets/data/eval.csv'), join(repo, 'validation.csv'));
      await writeFile(join(repo, 'README.md'), DATASET_CARD);
      const { commit, files } = await hub.addRepo({ id: DATASET, type: 'dataset', folder: repo, tags: ['v1'] });
      const parsed = validateRunSpec({
        name: 'hub-data',
        provider: 'local',
        task: 'text-classification',
        model: { path: modelDir },
        data: {
          train: { hub: DATASET, split: 'train', revision: 'v1' },
          validation: { hub: DATASET, split: 'validation', revision: 'v1' },
        },
        nodes: 2,
        training: { maxSteps: MAX_STEPS, saveSteps: MAX_STEPS },
        sanity: { maxSteps: 2 },
      });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      const spec = parsed.spec;
      assert.equal(recipeFor(spec).requirements, 'common/requirements-hub-data.txt');

      const workflowId = uniqueId('hub-data');
      const { client, close } = await testClient();
      let summary: RunSummary;
      try {
        const deps = testDeps({
          hub: { endpoint: hub.endpoint },
          reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
        });
        summary = (await withWorker(realActivities(deps), ({ client: c, taskQueue }) =>
          c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
        )) as RunSummary;
      } finally {
        await close();
      }
      assert.equal(await liveNodeProcesses(workflowId), 0, 'no node left');
      const install = summary.steps.find((s) => s.name === 'install-deps');
      t.diagnostic(
        `install-deps (datasets==5.2.0 into the node venv): ${install?.seconds ?? '?'} s, ${install?.note ?? 'installed'}`,
      );

      // Trained on both nodes and evaluated on the hub dataset's validation split.
      assert.equal(summary.training.globalStep, MAX_STEPS);
      assert.equal(summary.training.worldSize, 2);
      const record = (await runStoreOf(spec.name, workflowId).getJson('run.json')) as RunRecord;
      assert.equal(record.outcome, 'succeeded');
      assert.ok(record.metrics && typeof record.metrics.accuracy === 'number', JSON.stringify(record.metrics));

      // The hub served each file of the dataset repo exactly once: the master's download, not one per rank.
      assert.deepEqual(
        Object.fromEntries([...hub.downloads(DATASET, 'dataset')].sort()),
        Object.fromEntries(files.map((f) => [f, 1]).sort()),
        'each dataset file served once',
      );
      assert.deepEqual(files.slice().sort(), ['README.md', 'train.csv', 'validation.csv']);

      // The revision asked for and the commit it was, for both splits.
      assert.equal(record.data.train.commit, commit);
      assert.equal(record.data.train.revision, 'v1');
      assert.equal(record.data.validation.commit, commit);
    },
  );
});
