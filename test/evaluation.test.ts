// Scores from the trainer's done line to the run's progress and search attributes.
import assert from 'node:assert/strict';
import { qaF1 } from './helpers/scores';
import { describe, it } from 'node:test';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../src/common/search-attributes';
import { evalScoresOf, parseProgressLine } from '../src/recipes/progress';
import { validateRunSpec } from '../src/run-spec/validate';
import { evaluationSearchAttributes } from '../src/workflows/evaluation';
import { StepTracker } from '../src/workflows/step-tracker';
import type { RunProgress } from '../src/workflows/definitions';

const DONE = {
  event: 'done',
  global_step: 346,
  train_runtime: 450,
  train_samples_per_second: 196.7,
  train_steps_per_second: 0.77,
  first_loss: 5.9,
  final_loss: 1.2,
  eval_loss: null,
  output_dir: '/home/ubuntu/tuneforge/output',
  model_dir: '/home/ubuntu/tuneforge/output/model',
};

function done(fields: object) {
  const event = parseProgressLine(`TUNEFORGE ${JSON.stringify({ ...DONE, ...fields })}`);
  assert.ok(event && event.event === 'done');
  return event;
}

function spec(evaluate: boolean) {
  const result = validateRunSpec({
    name: 'eval-test',
    provider: 'local',
    recipe: 'tiny-qa',
    training: { maxSteps: 5, evaluate },
  });
  assert.ok(result.ok);
  return result.spec;
}

describe('scores from the done line', () => {
  it('reads exact match, F1 and the examples scored', () => {
    assert.deepEqual(evalScoresOf(done({ eval_exact_match: 77.7, eval_f1: 85.8, eval_samples: 10570 })), {
      exactMatch: 77.7,
      f1: 85.8,
      samples: 10570,
    });
  });

  it("reads a classifier's accuracy and macro-F1, and none from half a pair", () => {
    assert.deepEqual(evalScoresOf(done({ eval_accuracy: 91.25, eval_macro_f1: 88.5, eval_samples: 96 })), {
      accuracy: 91.25,
      macroF1: 88.5,
      samples: 96,
    });
    assert.equal(evalScoresOf(done({ eval_accuracy: 91.25, eval_samples: 96 })), null);
    assert.equal(evalScoresOf(done({ eval_exact_match: 70, eval_macro_f1: 88.5, eval_samples: 96 })), null);
  });

  it('gives none when evaluation is off, when a trainer predates the scores, or when a score is not a number', () => {
    assert.equal(evalScoresOf(done({ eval_exact_match: null, eval_f1: null, eval_samples: null })), null);
    assert.equal(evalScoresOf(done({})), null);
    const stringScore = { ...DONE, eval_exact_match: '77.7', eval_f1: 85.8, eval_samples: 10 };
    assert.equal(evalScoresOf(stringScore as unknown as Parameters<typeof evalScoresOf>[0]), null);
    assert.equal(evalScoresOf(done({ eval_exact_match: 77.7, eval_f1: 85.8, eval_samples: null })), null);
  });
});

describe('scores in the run', () => {
  it('upserts TuneforgeF1 and TuneforgeExactMatch, and nothing when evaluation is off', () => {
    assert.deepEqual(
      evaluationSearchAttributes({ exactMatch: 77.7, f1: 85.8, samples: 10570 }).map(({ key, value }) => [
        key.name,
        key.type,
        value,
      ]),
      [
        ['TuneforgeF1', SearchAttributeType.DOUBLE, 85.8],
        ['TuneforgeExactMatch', SearchAttributeType.DOUBLE, 77.7],
      ],
    );
    assert.deepEqual(evaluationSearchAttributes(null), []);
  });

  it('keeps within what SQL visibility (dev server, PostgreSQL) allows per namespace', () => {
    const limits: Record<string, number> = {
      [SearchAttributeType.DOUBLE]: 3,
      [SearchAttributeType.INT]: 3,
      [SearchAttributeType.KEYWORD]: 10,
      [SearchAttributeType.BOOL]: 3,
    };
    const counts = new Map<string, number>();
    for (const key of Object.values(SEARCH_ATTRIBUTES)) counts.set(key.type, (counts.get(key.type) ?? 0) + 1);
    for (const [type, count] of counts) assert.ok(count <= (limits[type] ?? 0), `${count} ${type} attributes`);
  });

  it('records the scores in the progress that status and the Web UI read, or that evaluation is off', () => {
    const seen: RunProgress[] = [];
    const tracker = new StepTracker(spec(true), (p) => seen.push(JSON.parse(JSON.stringify(p)) as RunProgress));
    assert.deepEqual(tracker.snapshot().evaluation, { enabled: true, scores: null });
    tracker.setEvaluation({ exactMatch: 77.7, f1: 85.8, samples: 10570 });
    assert.deepEqual(tracker.snapshot().evaluation, { enabled: true, scores: { exactMatch: 77.7, f1: 85.8, samples: 10570 } });
    assert.deepEqual(qaF1(seen.at(-1)?.evaluation?.scores), 85.8, 'the change is published');
    assert.deepEqual(new StepTracker(spec(false)).snapshot().evaluation, { enabled: false, scores: null });
  });
});
