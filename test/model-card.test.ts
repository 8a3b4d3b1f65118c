// The delivered model's README.md: Hugging Face's model-card front matter (read back with a YAML parser, as the
// hub reads it) and a body with the data hashes, the resolved trainer values, the run id and the cost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { renderModelCard, type ModelCardInput } from '../src/artifacts/model-card';
import { trainerValueRows, trainerValues } from '../src/run-spec/trainer-values';
import { validateRunSpec } from '../src/run-spec/validate';

const SHA = 'a'.repeat(64);

function specOf(fields: object) {
  const result = validateRunSpec({ name: 'card', provider: 'local', training: { maxSteps: 30 }, ...fields });
  assert.ok(result.ok, JSON.stringify(result));
  return result.spec;
}

function frontMatter(card: string): Record<string, unknown> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(card);
  assert.ok(match?.[1], card);
  return parse(match[1]) as Record<string, unknown>;
}

const ownData: ModelCardInput = {
  runName: 'my-classifier',
  workflowId: 'fine-tune-my-classifier-1',
  task: 'text-classification',
  preset: null,
  model: { source: '/models/minilm', sha256: SHA },
  data: {
    train: { source: '/data/train.csv', sha256: 'b'.repeat(64), rows: 480 },
    validation: { source: '/data/eval.csv', sha256: 'c'.repeat(64), rows: 96 },
  },
  scores: { accuracy: 97.9, macro_f1: 97.8 },
  hyperparameters: trainerValueRows(
    trainerValues(
      specOf({
        task: 'text-classification',
        model: '/models/minilm',
        data: { train: '/data/train.csv', validation: '/data/eval.csv' },
        training: { maxSteps: 30, extraArgs: { lr_scheduler_type: 'cosine' } },
      }),
    ),
  ),
  costUsd: 1.234,
  endedAt: '2026-12-06T20:00:00.000Z',
};

describe('model card', () => {
  it('has the hub front matter: library, pipeline, metrics and a model-index with the scores; no base_model for a folder', () => {
    const meta = frontMatter(renderModelCard(ownData));
    assert.equal(meta.library_name, 'transformers');
    assert.equal(meta.pipeline_tag, 'text-classification');
    assert.equal('base_model' in meta, false);
    assert.equal('datasets' in meta, false);
    assert.deepEqual(meta.metrics, ['accuracy', 'f1']);
    assert.deepEqual(meta['model-index'], [
      {
        name: 'my-classifier',
        results: [
          {
            task: { type: 'text-classification', name: 'Text Classification' },
            dataset: { name: '/data/eval.csv', type: 'custom', split: 'validation' },
            metrics: [
              { type: 'accuracy', value: 97.9, name: 'Accuracy' },
              { type: 'f1', value: 97.8, name: 'Macro-F1' },
            ],
          },
        ],
      },
    ]);
  });

  it('names the hub model and dataset it came from', () => {
    const card = renderModelCard({
      ...ownData,
      task: 'question-answering',
      model: { source: 'distilbert/distilbert-base-uncased', hubId: 'distilbert/distilbert-base-uncased' },
      data: { train: { source: 'rajpurkar/squad:train' }, validation: { source: 'rajpurkar/squad:validation' } },
      hubDataset: { id: 'rajpurkar/squad', validationSplit: 'validation', revision: 'abc123' },
      scores: { exact_match: 80.1, f1: 87.5 },
    });
    const meta = frontMatter(card);
    assert.equal(meta.base_model, 'distilbert/distilbert-base-uncased');
    assert.deepEqual(meta.datasets, ['rajpurkar/squad']);
    assert.equal(meta.pipeline_tag, 'question-answering');
    const [entry] = meta['model-index'] as Array<{ results: Array<{ dataset: object; metrics: Array<{ type: string }> }> }>;
    assert.deepEqual(entry?.results[0]?.dataset, {
      name: 'rajpurkar/squad',
      type: 'rajpurkar/squad',
      split: 'validation',
      revision: 'abc123',
    });
    assert.deepEqual(
      entry?.results[0]?.metrics.map((m) => m.type),
      ['exact_match', 'f1'],
    );
  });

  it('says in its body what it was trained on (with hashes), with which values (and their sources), the run id and the cost', () => {
    const card = renderModelCard(ownData);
    for (const row of [
      `| base model | /models/minilm | ${SHA} | - |`,
      `| train | /data/train.csv | ${'b'.repeat(64)} | 480 |`,
      '| learning_rate | 0.00002 | task default |',
      '| max_seq_length | 128 | task default |',
      '| max_steps | 30 | spec |',
      '| lr_scheduler_type | cosine | spec |',
      '| accuracy | 97.9 |',
      '- Run id: fine-tune-my-classifier-1',
      '- Cost: $1.23',
    ])
      assert.ok(card.includes(row), `${row}\n${card}`);
  });

  it('says so when the run did not evaluate, with an empty metric list', () => {
    const card = renderModelCard({ ...ownData, scores: null });
    assert.deepEqual(frontMatter(card).metrics, []);
    assert.ok(card.includes('did not evaluate'));
  });
});
