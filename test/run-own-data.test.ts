// Two whole local runs on the user's own model folder and data file (not a preset's assets): the inputs
// are checked and hashed on the worker, staged on every node, trained on, recorded in run.json; the second
// run, with the same spec and only the data file's content changed, reuses the image the first one baked.
// It fine-tunes a tiny text classifier (recipes/tiny-cls/make_assets.py's model as the user's folder) on a
// CSV and checks accuracy and macro-F1 in run.json, the summary and the store.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { DEFAULT_PIP_CACHE, labLayout } from '../src/providers/local/lab';
import { recipeFingerprint } from '../src/recipes/recipe-bundle';
import { recipeFor } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, removeClustersStartingWith, runStoreOf, testDeps, TEST_LAB_ROOT } from './helpers/local-lab';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';

const RECIPE_PYTHON = join(packageRoot(), '.tools/recipe-venv/bin/python');
const FLAVOUR = {
  task: 'text-classification',
  assets: 'tiny-cls',
  train: 'train.csv',
  eval: 'eval.csv',
  metrics: ['accuracy', 'macro_f1'],
};

/** Half of a CSV file's rows, header kept. */
function halfOf(text: string): string {
  const [header, ...rows] = text.trimEnd().split('\n');
  return `${[header, ...rows.slice(0, Math.ceil(rows.length / 2))].join('\n')}\n`;
}

interface RunRecord {
  task: string;
  recipeFingerprint: string;
  model: { source: string; sha256?: string };
  data: Record<'train' | 'validation', { source: string; sha256?: string; rows?: number }>;
  modelUri: string | null;
  metrics: Record<string, number> | null;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The stored model folder's README.md is a model card of this run: its scores, data hashes and run id. */
async function checkModelCard(runUri: string, workflowId: string, record: RunRecord): Promise<void> {
  const card = await readFile(join(fileURLToPath(runUri), 'model/README.md'), 'utf8');
  const meta = parse(/^---\n([\s\S]*?)\n---\n/.exec(card)?.[1] ?? '') as {
    pipeline_tag?: string;
    'model-index'?: Array<{ results: Array<{ metrics: Array<{ value: number }> }> }>;
  };
  assert.equal(meta.pipeline_tag, FLAVOUR.task);
  const values = meta['model-index']?.[0]?.results[0]?.metrics.map((m) => m.value);
  assert.deepEqual(values, FLAVOUR.metrics.map((m) => record.metrics?.[m]));
  for (const text of [record.data.train.sha256, record.model.sha256, workflowId, '| learning_rate | 0.00002 | task default |'])
    assert.ok(text && card.includes(text), `${text} in the model card:\n${card}`);
}

describe('runs on your own model folder and data', () => {
  let scratch: string;
  let modelDir: string;
  let trainFile: string;
  let evalFile: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'own-data-'));
    execFileSync(RECIPE_PYTHON, [
      join(packageRoot(), `recipes/${FLAVOUR.assets}/make_assets.py`),
      '--out',
      join(scratch, 'assets'),
    ]);
    // A model folder as a user has one: weights, config and tokenizer together.
    modelDir = join(scratch, 'my-model');
    await cp(join(scratch, 'assets/model'), modelDir, { recursive: true });
    await cp(join(scratch, 'assets/tokenizer'), modelDir, { recursive: true });
    trainFile = join(scratch, `weekly-${FLAVOUR.train}`);
    evalFile = join(scratch, `weekly-${FLAVOUR.eval}`);
    await cp(join(scratch, 'assets/data', FLAVOUR.train), trainFile);
    await cp(join(scratch, 'assets/data', FLAVOUR.eval), evalFile);
  });

  after(async () => {
    await removeClustersStartingWith('own-data-');
    await rm(scratch, { recursive: true, force: true });
  });

  it(
    'trains from the staged inputs, records their hashes, and a data-only change reuses the baked image',
    { timeout: 15 * 60_000 },
    async () => {
      const parsed = validateRunSpec({
        name: 'own-data',
        provider: 'local',
        task: FLAVOUR.task,
        model: { path: modelDir },
        data: { train: trainFile, validation: evalFile },
        nodes: 2,
        training: { maxSteps: 40, saveSteps: 20 },
        sanity: { maxSteps: 2 },
      });
      assert.ok(parsed.ok, JSON.stringify(parsed));
      const spec = parsed.spec;
      // The first run must bake: no image of this recipe fingerprint may be left from another test.
      const fingerprint = await recipeFingerprint(recipeFor(spec));
      await rm(join(labLayout(TEST_LAB_ROOT, DEFAULT_PIP_CACHE).images, fingerprint), { recursive: true, force: true });

      const { client, close } = await testClient();
      const deps = testDeps({
        reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
      });
      const run = async (): Promise<{ summary: RunSummary; record: RunRecord; workflowId: string }> => {
        const workflowId = uniqueId('own-data');
        const summary = (await withWorker(realActivities(deps), ({ client: c, taskQueue }) =>
          c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] }),
        )) as RunSummary;
        assert.equal(await liveNodeProcesses(workflowId), 0, 'no node left');
        const record = (await runStoreOf(spec.name, workflowId).getJson('run.json')) as RunRecord;
        return { summary, record, workflowId };
      };
      try {
        const first = await run();
        assert.equal(first.summary.imageReused, false, 'the first run baked the image');
        assert.equal(first.summary.training.globalStep, 40);
        const scores = first.summary.training.eval;
        assert.ok(scores && 'accuracy' in scores, `the summary carries the classifier's scores: ${JSON.stringify(scores)}`);
        assert.equal(scores.accuracy, first.record.metrics?.accuracy);
        assert.equal(scores.macroF1, first.record.metrics?.macro_f1);
        assert.equal(first.summary.training.worldSize, 2);
        assert.equal(first.record.task, FLAVOUR.task);
        for (const metric of FLAVOUR.metrics) {
          const value = first.record.metrics?.[metric];
          assert.ok(typeof value === 'number' && value >= 0 && value <= 100, `${metric} in run.json: ${value}`);
        }
        assert.equal(first.record.data.train.sha256, sha256(await readFile(trainFile)));
        assert.equal(first.record.data.train.source, trainFile);
        assert.ok((first.record.data.train.rows ?? 0) > 0);
        assert.equal(first.record.model.source, modelDir);
        assert.match(first.record.model.sha256 ?? '', /^[0-9a-f]{64}$/);
        const stored = (await runStoreOf(spec.name, first.workflowId).list()).map((o) => o.key);
        for (const key of ['model/config.json', 'model/README.md', 'evaluation/eval_results.json', 'evaluation/eval_predictions.json'])
          assert.ok(stored.includes(key), `${key} stored (have ${stored.join(', ')})`);
        await checkModelCard(runStoreOf(spec.name, first.workflowId).uri, first.workflowId, first.record);

        // Next week's data: the same spec, new rows in the same file.
        await writeFile(trainFile, halfOf(await readFile(trainFile, 'utf8')));
        const second = await run();
        assert.equal(second.summary.imageReused, true, 'only the data changed: the image of the first run is reused');
        assert.equal(second.record.recipeFingerprint, first.record.recipeFingerprint);
        assert.notEqual(second.record.data.train.sha256, first.record.data.train.sha256);
        assert.equal(second.record.data.train.sha256, sha256(await readFile(trainFile)));
        assert.equal(second.record.data.validation.sha256, first.record.data.validation.sha256);
      } finally {
        await close();
      }
    },
  );
});
