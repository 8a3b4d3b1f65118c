// The spec's task, model and data: presets, short forms, overrides, and every bad value an attacker or a
// typo would try, each refused with the field's path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SpecProblem } from '../src/common/errors';
import { recipeAttribute, runInputs, runTitle } from '../src/run-spec/expand-inputs';
import { validateRunSpec } from '../src/run-spec/validate';
import { runStaticMetadata } from '../src/client/run-metadata';

const base = { name: 'inputs', provider: 'local', training: { maxSteps: 5 } };
const cls = {
  ...base,
  task: 'text-classification',
  model: { path: '/models/tiny' },
  data: { train: { path: '/data/train.csv' }, validation: { path: '/data/eval.csv' } },
};

function accepted(input: object) {
  const result = validateRunSpec(input);
  assert.ok(result.ok, JSON.stringify(result));
  return result.spec;
}

function problems(input: unknown): SpecProblem[] {
  const result = validateRunSpec(input);
  assert.equal(result.ok, false, `expected ${JSON.stringify(input)} to be refused`);
  return result.ok ? [] : result.problems;
}

describe('spec task, model and data', () => {
  it('expand each preset to its task, model and data; a spec without a recipe names no preset', () => {
    assert.equal(runInputs(accepted({ ...base, recipe: 'tiny-qa' })).task, 'question-answering');
    assert.deepEqual(runInputs(accepted({ ...base, recipe: 'distilbert-squad' })).model, {
      kind: 'hub',
      id: 'distilbert/distilbert-base-uncased',
    });
    const tinyCls = runInputs(accepted({ ...base, recipe: 'tiny-cls' }));
    assert.equal(tinyCls.task, 'text-classification');
    assert.equal(tinyCls.preset, 'tiny-cls');
    const custom = runInputs(accepted(cls));
    assert.equal(custom.preset, undefined);
    assert.deepEqual(custom.data.train, { kind: 'path', path: '/data/train.csv' });
  });

  it('name a run by its preset, or by its task and model when it has none (never a preset it did not use)', () => {
    assert.equal(runTitle(accepted({ ...base, recipe: 'tiny-cls' })), 'tiny-cls');
    assert.equal(runTitle(accepted(cls)), 'text-classification of /models/tiny');
    assert.equal(recipeAttribute(accepted(cls)), 'text-classification');
    assert.equal(runTitle(accepted({ ...cls, task: 'question-answering', model: 'org/m' })), 'question-answering of org/m');
    assert.equal(runTitle(accepted({ ...base, recipe: 'tiny-cls', model: '/models/tiny' })), 'tiny-cls with /models/tiny');
    // The Web UI's summary of a started run says the same.
    assert.equal(runStaticMetadata(accepted(cls)).staticSummary, 'inputs: text-classification of /models/tiny on local, 3 nodes, 5 steps');
  });

  it('read the short forms: a hub id, a folder or a URI for model; a path or a URI for data', () => {
    const spec = accepted({
      ...cls,
      model: 'distilbert/distilbert-base-uncased',
      data: { train: '/data/train.jsonl', validation: 's3://my-bucket/sets/eval.jsonl' },
    });
    const inputs = runInputs(spec);
    assert.deepEqual(inputs.model, { kind: 'hub', id: 'distilbert/distilbert-base-uncased' });
    assert.deepEqual(inputs.data.validation, { kind: 'uri', uri: 's3://my-bucket/sets/eval.jsonl' });
    assert.deepEqual(runInputs(accepted({ ...cls, model: '/models/mine' })).model, { kind: 'path', path: '/models/mine' });
    assert.deepEqual(runInputs(accepted({ ...cls, model: 's3://my-bucket/runs/x/model' })).model, {
      kind: 'uri',
      uri: 's3://my-bucket/runs/x/model',
    });
  });

  it('validate a validated spec again unchanged (the workflow checks what the client sent)', () => {
    const once = accepted({ ...cls, model: 'org/model', data: { train: 'file:///d/t.csv', validation: '/d/v.csv' } });
    assert.deepEqual(accepted(once), once);
  });

  it("let a spec replace a preset's model or data, never its task", () => {
    const own = runInputs(accepted({ ...base, recipe: 'tiny-cls', data: cls.data }));
    assert.deepEqual(own.data.train, { kind: 'path', path: '/data/train.csv' });
    assert.equal(own.model.kind, 'asset');
    const found = problems({ ...base, recipe: 'tiny-qa', task: 'text-classification' });
    assert.ok(
      found.some((p) => p.path === 'task' && /question-answering preset/.test(p.message)),
      JSON.stringify(found),
    );
  });

  const attacks: Array<[string, object, string, RegExp]> = [
    ['unknown task', { ...cls, task: 'summarization' }, 'task', /question-answering|text-classification/],
    ['no recipe and no model', { ...base, task: 'text-classification', data: cls.data }, 'recipe', /model/],
    ['single-segment hub id', { ...cls, model: 'bert' }, 'model.hub', /namespace\/name/],
    ['hub id with ..', { ...cls, model: { hub: '../etc' } }, 'model.hub', /namespace\/name/],
    ['hub id with a shell', { ...cls, model: { hub: 'a/b;rm -rf ~' } }, 'model.hub', /namespace\/name/],
    ['hub id starting with -', { ...cls, model: { hub: '-x/y' } }, 'model.hub', /namespace\/name/],
    ['hub id with --', { ...cls, model: { hub: 'a--b/c' } }, 'model.hub', /"--"/],
    ['revision with ..', { ...cls, model: { hub: 'a/b', revision: 'main/../x' } }, 'model.revision', /branch, tag or commit/],
    ['revision as an option', { ...cls, model: { hub: 'a/b', revision: '--upload' } }, 'model.revision', /branch/],
    ['relative model folder', { ...cls, model: { path: 'models/x' } }, 'model.path', /absolute/],
    ['model folder with ..', { ...cls, model: { path: '/models/../etc' } }, 'model.path', /\.\./],
    ['model URI at a bucket root', { ...cls, model: { uri: 's3://my-bucket' } }, 'model.uri', /folder/],
    ['model URI of a scheme unknown', { ...cls, model: 'http://evil.example/m' }, 'model.uri', /s3:\/\//],
    ['data path with ..', { ...cls, data: { ...cls.data, train: '/data/../etc/passwd.csv' } }, 'data.train.path', /\.\./],
    ['data path relative', { ...cls, data: { ...cls.data, train: 'train.csv' } }, 'data.train.path', /absolute/],
    ['data file of another type', { ...cls, data: { ...cls.data, train: '/data/train.parquet' } }, 'data.train.path', /jsonl/],
    ['data file with no name', { ...cls, data: { ...cls.data, train: '/data/.csv/' } }, 'data.train.path', /.+/],
    [
      'data URI with ..',
      { ...cls, data: { ...cls.data, validation: 's3://my-bucket/../x.csv' } },
      'data.validation.uri',
      /not allowed/,
    ],
    [
      'data URI bucket of capitals',
      { ...cls, data: { ...cls.data, validation: 's3://Bucket/x.csv' } },
      'data.validation.uri',
      /bucket/,
    ],
    ['data URI folder', { ...cls, data: { ...cls.data, validation: 's3://my-bucket/x/' } }, 'data.validation.uri', /jsonl|file/],
    [
      'data URI relative file',
      { ...cls, data: { ...cls.data, validation: 'file://data/x.csv' } },
      'data.validation.uri',
      /file:\/\/\//,
    ],
    [
      'hub split with a shell',
      { ...cls, data: { train: { hub: 'a/b', split: 'train;id' }, validation: { hub: 'a/b', split: 'test' } } },
      'data.train.split',
      /split/,
    ],
    [
      'hub split without split',
      { ...cls, data: { train: { hub: 'a/b' }, validation: { hub: 'a/b', split: 'test' } } },
      'data.train.split',
      /required/,
    ],
    [
      'hub config as an option',
      {
        ...cls,
        data: { train: { hub: 'a/b', split: 'train', config: '-x' }, validation: { hub: 'a/b', split: 'test', config: '-x' } },
      },
      'data.train.config',
      /config/,
    ],
    [
      'hub splits of two datasets',
      { ...cls, data: { train: { hub: 'a/b', split: 'train' }, validation: { hub: 'c/d', split: 'test' } } },
      'data.validation.hub',
      /must match/,
    ],
    [
      'hub train with a file validation',
      { ...cls, data: { train: { hub: 'a/b', split: 'train' }, validation: '/d/v.csv' } },
      'data.validation',
      /both/,
    ],
    [
      'columns for QA',
      { ...cls, task: 'question-answering', data: { ...cls.data, columns: { text: 'x' } } },
      'data.columns',
      /text-classification only/,
    ],
    ['column with a quote', { ...cls, data: { ...cls.data, columns: { label: 'a"b' } } }, 'data.columns.label', /column name/],
    ['unknown data field', { ...cls, data: { ...cls.data, test: '/d/t.csv' } }, 'data', /unknown field/],
    [
      'data source with two kinds',
      { ...cls, data: { ...cls.data, train: { path: '/d/t.csv', uri: 's3://b-b/t.csv' } } },
      'data.train',
      /.+/,
    ],
    [
      'managed trainer argument',
      { ...cls, training: { maxSteps: 5, extraArgs: { label_column: 'y' } } },
      'training.extraArgs.label_column',
      /data.columns.label/,
    ],
  ];
  for (const [what, input, path, message] of attacks) {
    it(`refuse ${what} at ${path}`, () => {
      const found = problems(input);
      const match = found.find((p) => p.path === path);
      assert.ok(match, `expected a problem at ${path}, got ${JSON.stringify(found)}`);
      assert.match(match.message, message);
    });
  }

  it('refuse a control character anywhere in a path, a URI or a hub id', () => {
    for (const input of [
      { ...cls, model: { path: '/models/a\u0000b' } },
      { ...cls, data: { ...cls.data, train: '/data/t\nrain.csv' } },
      { ...cls, model: 'a/b\u001b[31m' },
    ]) {
      assert.ok(problems(input).some((p) => /control character/.test(p.message)));
    }
  });
});
