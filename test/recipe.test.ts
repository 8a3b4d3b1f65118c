// Recipe definitions: the hub ids the nodes download, and the trainer arguments a spec (a preset, or task,
// model and data) turns into.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../src/common/package-root';
import { recipeFingerprint } from '../src/recipes/recipe-bundle';
import { RECIPES } from '../src/run-spec/schema';
import { hubIds, RECIPE_DEFINITIONS, recipeFor, trainScriptArgs, TRAINING_RANK_PATTERN } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/run-spec/validate';
import { trainerRefusal } from '../src/recipes/trainer-refusal';

/** What the pinned datasets release accepts: exactly "namespace/name" (a single segment raises HfUriError). */
const NAMESPACED_HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function spec(recipe: string, training: object = {}) {
  return specOf({ recipe, training: { maxSteps: 5, ...training } });
}

function specOf(fields: object) {
  const result = validateRunSpec({ name: 'recipe-test', provider: 'local', training: { maxSteps: 5 }, ...fields });
  assert.ok(result.ok, JSON.stringify(result));
  return result.spec;
}

const TAIL = ['--output_dir', 'out', '--per_device_train_batch_size', '8', '--gradient_accumulation_steps', '1'];
const STEPS = ['--save_steps', '20', '--save_total_limit', '2', '--seed', '42', '--logging_steps', '1', '--max_steps', '5'];

/** The value after a flag in an argument list. */
function valueOf(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

describe('recipe definitions', () => {
  it('name every hub model and dataset as namespace/name', () => {
    for (const name of RECIPES) {
      for (const id of hubIds(spec(name))) assert.match(id, NAMESPACED_HUB_ID, `${name}: ${id}`);
    }
  });

  it("download the post's model and dataset for distilbert-squad, nothing for the offline tiny-qa and tiny-cls", () => {
    assert.deepEqual(hubIds(spec('distilbert-squad')), ['distilbert/distilbert-base-uncased', 'rajpurkar/squad']);
    assert.deepEqual(hubIds(spec('tiny-qa')), []);
    assert.deepEqual(hubIds(spec('tiny-cls')), []);
  });

  it("keep the presets' command lines exactly as they were before task, model and data existed", () => {
    const options = { outputDir: 'out', resume: true, evaluate: true };
    assert.deepEqual(trainScriptArgs(spec('tiny-qa'), options), [
      'tuneforge/recipe/common/train_qa.py',
      ...['--model_name_or_path', 'tuneforge/assets/model', '--tokenizer_name', 'tuneforge/assets/tokenizer'],
      ...['--train_file', 'tuneforge/assets/data/train.json', '--validation_file', 'tuneforge/assets/data/eval.json'],
      ...TAIL,
      ...['--learning_rate', '0.003', '--max_seq_length', '96', '--doc_stride', '32'],
      ...STEPS,
      '--do_eval',
      '--resume',
    ]);
    assert.deepEqual(trainScriptArgs(spec('distilbert-squad'), options), [
      'tuneforge/recipe/common/train_qa.py',
      ...['--model_name_or_path', 'tuneforge/inputs/model', '--dataset_name', 'rajpurkar/squad'],
      ...TAIL,
      ...['--learning_rate', '0.00005', '--max_seq_length', '384', '--doc_stride', '128'],
      ...STEPS,
      '--do_eval',
      '--resume',
    ]);
  });

  it('run train_cls.py for the tiny-cls preset, without the QA-only --doc_stride', () => {
    const args = trainScriptArgs(spec('tiny-cls'), { outputDir: 'out', resume: false, evaluate: true });
    assert.equal(args[0], 'tuneforge/recipe/common/train_cls.py');
    assert.equal(valueOf(args, '--train_file'), 'tuneforge/assets/data/train.csv');
    assert.equal(valueOf(args, '--validation_file'), 'tuneforge/assets/data/eval.csv');
    assert.equal(valueOf(args, '--tokenizer_name'), 'tuneforge/assets/tokenizer');
    assert.equal(args.includes('--doc_stride'), false);
  });

  it("read the user's files at their staged paths on the nodes, by extension, with the columns given", () => {
    const args = trainScriptArgs(
      specOf({
        task: 'text-classification',
        model: { path: '/models/mine' },
        data: {
          train: '/data/train.csv',
          validation: 's3://bucket/eval/valid.jsonl',
          columns: { text: 'review', textPair: 'title', label: 'stars' },
        },
      }),
      { outputDir: 'out', resume: false, evaluate: true },
    );
    assert.equal(args[0], 'tuneforge/recipe/common/train_cls.py');
    assert.equal(valueOf(args, '--model_name_or_path'), 'tuneforge/inputs/model');
    assert.equal(args.includes('--tokenizer_name'), false);
    assert.equal(valueOf(args, '--train_file'), 'tuneforge/inputs/train.csv');
    assert.equal(valueOf(args, '--validation_file'), 'tuneforge/inputs/validation.jsonl');
    assert.equal(valueOf(args, '--text_column'), 'review');
    assert.equal(valueOf(args, '--text_pair_column'), 'title');
    assert.equal(valueOf(args, '--label_column'), 'stars');
    assert.equal(args.includes('--dataset_name'), false);
  });

  it('name a hub dataset with its config, revision and splits; a hub model is the folder the master staged', () => {
    const args = trainScriptArgs(
      specOf({
        task: 'question-answering',
        model: { hub: 'deepset/roberta-base-squad2', revision: 'v1.2' },
        data: {
          train: { hub: 'org/qa-data', config: 'en', split: 'train[:90%]', revision: 'abc123' },
          validation: { hub: 'org/qa-data', config: 'en', split: 'train[90%:]', revision: 'abc123' },
        },
      }),
      { outputDir: 'out', resume: false, evaluate: true },
    );
    assert.equal(args[0], 'tuneforge/recipe/common/train_qa.py');
    // The master downloaded the revision once and copied it to every node: ranks never ask the hub for it.
    assert.equal(valueOf(args, '--model_name_or_path'), 'tuneforge/inputs/model');
    assert.equal(args.includes('--model_revision'), false);
    assert.equal(valueOf(args, '--dataset_name'), 'org/qa-data');
    assert.equal(valueOf(args, '--dataset_config_name'), 'en');
    assert.equal(valueOf(args, '--dataset_revision'), 'abc123');
    assert.equal(valueOf(args, '--train_split'), 'train[:90%]');
    assert.equal(valueOf(args, '--validation_split'), 'train[90%:]');
    assert.equal(args.includes('--train_file'), false);
    // The master downloaded the commit once and pushed it to every node: the ranks read that folder, not the hub.
    const commit = 'f'.repeat(40);
    const pinned = trainScriptArgs(
      specOf({
        task: 'question-answering',
        model: 'org/m',
        data: {
          train: { hub: 'org/qa-data', split: 'train', revision: 'main' },
          validation: { hub: 'org/qa-data', split: 'validation', revision: 'main' },
        },
      }),
      { outputDir: 'out', resume: false, evaluate: true, datasetRevision: commit },
    );
    assert.equal(valueOf(pinned, '--dataset_dir'), `tuneforge/datasets/hub-${commit}`);
    assert.equal(valueOf(pinned, '--dataset_name'), 'org/qa-data');
    assert.equal(pinned.includes('--dataset_revision'), false);
  });

  it('install datasets only for a spec that reads a hub dataset, on local nodes and with the tiny presets too', async () => {
    const hubData = { train: { hub: 'org/d', split: 'train' }, validation: { hub: 'org/d', split: 'validation' } };
    const files = { train: '/d/t.csv', validation: '/d/v.csv' };
    const own = (data: unknown) => specOf({ task: 'text-classification', model: 'org/m', data });
    assert.equal(recipeFor(own(files)).requirements, 'common/requirements-local.txt');
    assert.equal(recipeFor(own(hubData)).requirements, 'common/requirements-hub-data.txt');
    const tiny = recipeFor(specOf({ recipe: 'tiny-cls', data: hubData }));
    assert.equal(tiny.requirements, 'common/requirements-hub-data.txt');
    assert.deepEqual({ ...tiny, requirements: 'tiny-cls/requirements.txt' }, recipeFor(spec('tiny-cls')));
    const pinned = await readFile(join(packageRoot(), 'recipes/common/requirements-hub-data.txt'), 'utf8');
    assert.match(pinned, /^datasets==5\.2\.0$/m);
    // Presets and file data keep their recipe, so their fingerprint; only hub-data specs get another image.
    assert.notEqual(await recipeFingerprint(recipeFor(own(hubData))), await recipeFingerprint(recipeFor(own(files))));
    assert.equal(await recipeFingerprint(recipeFor(own(files))), await recipeFingerprint(recipeFor(specOf({ task: 'text-classification', model: 'org/x', data: files }))));
  });

  it("replace a preset's model or data with the spec's own, keeping the preset's packages and defaults", () => {
    const s = specOf({ recipe: 'tiny-cls', data: { train: '/u/train.csv', validation: '/u/eval.csv' } });
    const args = trainScriptArgs(s, { outputDir: 'out', resume: false, evaluate: true });
    assert.equal(valueOf(args, '--model_name_or_path'), 'tuneforge/assets/model');
    assert.equal(valueOf(args, '--train_file'), 'tuneforge/inputs/train.csv');
    assert.equal(valueOf(args, '--learning_rate'), '0.005');
    assert.deepEqual(recipeFor(s), RECIPE_DEFINITIONS['tiny-cls']);
  });

  it("default to run_qa's learning rate 5e-5 and the post's sequence settings for distilbert-squad", () => {
    const args = trainScriptArgs(spec('distilbert-squad'), { outputDir: 'out', resume: false, evaluate: true });
    assert.equal(Number(valueOf(args, '--learning_rate')), 5e-5);
    assert.equal(valueOf(args, '--max_seq_length'), '384');
    assert.equal(valueOf(args, '--doc_stride'), '128');
    assert.equal(valueOf(args, '--model_name_or_path'), 'tuneforge/inputs/model');
    assert.equal(valueOf(args, '--dataset_name'), 'rajpurkar/squad');
  });

  it("give a spec without a preset its task's defaults (Hugging Face's run_glue and run_qa), not a tiny preset's", () => {
    const own = { model: 'org/real-model', data: { train: '/d/train.csv', validation: '/d/eval.csv' } };
    const cls = trainScriptArgs(specOf({ task: 'text-classification', ...own }), { outputDir: 'o', resume: false, evaluate: true });
    assert.deepEqual([valueOf(cls, '--learning_rate'), valueOf(cls, '--max_seq_length')], ['0.00002', '128']);
    assert.equal(cls.includes('--doc_stride'), false);
    const qaOwn = { ...own, data: { train: '/d/train.json', validation: '/d/eval.json' } };
    const qa = trainScriptArgs(specOf({ task: 'question-answering', ...qaOwn }), { outputDir: 'o', resume: false, evaluate: true });
    assert.deepEqual(
      [valueOf(qa, '--learning_rate'), valueOf(qa, '--max_seq_length'), valueOf(qa, '--doc_stride')],
      ['0.00003', '384', '128'],
    );
    // The spec's own values win over task and preset alike.
    const written = { maxSteps: 5, learningRate: 1e-4, maxSeqLength: 256, docStride: 64 };
    for (const fields of [{ task: 'question-answering', ...qaOwn }, { recipe: 'tiny-qa' }]) {
      const args = trainScriptArgs(specOf({ ...fields, training: written }), { outputDir: 'o', resume: false, evaluate: true });
      assert.deepEqual([valueOf(args, '--learning_rate'), valueOf(args, '--max_seq_length'), valueOf(args, '--doc_stride')], [
        '0.0001',
        '256',
        '64',
      ]);
    }
  });

  it('install a base recipe for a spec without a preset: the trainers only, no offline assets, the hub reachable', () => {
    const own = { task: 'text-classification', model: 'org/real-model', data: { train: '/d/t.csv', validation: '/d/v.csv' } };
    const aws = { provider: 'aws', aws: { region: 'us-east-1', instanceTypes: ['r7iz.metal-16xl'], privateKeyPath: '/k' } };
    for (const provider of [{}, aws]) {
      const recipe = recipeFor(specOf({ ...own, ...provider, artifacts: 's3://my-bucket/runs' }));
      assert.deepEqual(recipe.folders, ['common']);
      assert.equal(recipe.prepareAssets, undefined);
      assert.equal('HF_HUB_OFFLINE' in recipe.trainEnv, false);
      assert.match(recipe.requirements, /^common\//);
    }
    const onAws = recipeFor(specOf({ ...own, ...aws, artifacts: 's3://my-bucket/runs' }));
    assert.ok(onAws.systemPackages.includes('python3-venv') && onAws.pipArgs.includes('--extra-index-url'));
    // Offline mode stays with the offline presets.
    assert.equal(recipeFor(spec('tiny-cls')).trainEnv.HF_HUB_OFFLINE, '1');
  });

  it('pass any TrainingArguments name in extraArgs as one --name=value word (bare --name for true)', () => {
    const args = trainScriptArgs(
      spec('tiny-qa', { extraArgs: { lr_scheduler_type: 'cosine', warmup_steps: 0.1, optim: 'sgd', gradient_checkpointing: true } }),
      { outputDir: 'o', resume: false, evaluate: true },
    );
    for (const word of ['--lr_scheduler_type=cosine', '--warmup_steps=0.1', '--optim=sgd', '--gradient_checkpointing'])
      assert.ok(args.includes(word), word);
  });

  it('pass --do_eval only when both the spec and the caller ask for evaluation', () => {
    const cases: Array<[boolean, boolean, boolean]> = [
      [true, true, true],
      [true, false, false],
      [false, true, false],
      [false, false, false],
    ];
    for (const [specEvaluates, callerEvaluates, expected] of cases) {
      const args = trainScriptArgs(spec('tiny-qa', { evaluate: specEvaluates }), {
        outputDir: 'o',
        resume: false,
        evaluate: callerEvaluates,
      });
      assert.equal(args.includes('--do_eval'), expected, `spec ${specEvaluates}, caller ${callerEvaluates}`);
    }
  });

  it("signal every task's training ranks by their command line, never mpirun", () => {
    const rank = new RegExp(TRAINING_RANK_PATTERN);
    for (const recipe of ['tiny-qa', 'tiny-cls'] as const) {
      const [script, ...rest] = trainScriptArgs(spec(recipe), { outputDir: 'o', resume: false, evaluate: true });
      assert.match(`/home/ubuntu/tuneforge/venv/bin/python3 ${script} ${rest.join(' ')}`, rank, recipe);
      assert.doesNotMatch(`mpirun -np 2 /home/ubuntu/tuneforge/venv/bin/python3 ${script}`, rank, recipe);
    }
  });
});

describe("the trainers' refusal (exit 65)", () => {
  it('names data.train, data.validation or model from the trainer line, never retried', () => {
    assert.deepEqual(trainerRefusal('loading\ntrain_cls: tuneforge/inputs/train.csv: row 4: column label: empty\n'), {
      path: 'data.train',
      message: 'tuneforge/inputs/train.csv: row 4: column label: empty',
    });
    assert.equal(
      trainerRefusal('train_qa: tuneforge/inputs/validation.jsonl: row 2: column answers: bad').path,
      'data.validation',
    );
    const head = trainerRefusal(
      'x\ntrain_cls: tuneforge/inputs/model is a DistilBertForQuestionAnswering model, not a classifier',
    );
    assert.equal(head.path, 'model');
    assert.match(head.message, /ForQuestionAnswering/);
    assert.equal(trainerRefusal('Traceback...').path, 'model');
  });
});
