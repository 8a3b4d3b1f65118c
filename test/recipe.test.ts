// Recipe definitions: the hub ids the nodes download, and the trainer arguments a spec turns into.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECIPES } from '../src/spec/schema';
import { hubIds, RECIPE_DEFINITIONS, trainScriptArgs } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/spec/validate';

/** What the pinned datasets release accepts: exactly "namespace/name" (a single segment raises HfUriError). */
const NAMESPACED_HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function spec(recipe: string, training: object = {}) {
  const result = validateRunSpec({ name: 'recipe-test', provider: 'local', recipe, training: { maxSteps: 5, ...training } });
  assert.ok(result.ok, JSON.stringify(result));
  return result.spec;
}

/** The value after a flag in an argument list. */
function valueOf(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

describe('recipe definitions', () => {
  it('name every hub model and dataset as namespace/name', () => {
    for (const name of RECIPES) {
      for (const id of hubIds(RECIPE_DEFINITIONS[name])) assert.match(id, NAMESPACED_HUB_ID, `${name}: ${id}`);
    }
  });

  it("download the post's model and dataset for distilbert-squad, nothing for the offline tiny-qa", () => {
    assert.deepEqual(hubIds(RECIPE_DEFINITIONS['distilbert-squad']), ['distilbert/distilbert-base-uncased', 'rajpurkar/squad']);
    assert.deepEqual(hubIds(RECIPE_DEFINITIONS['tiny-qa']), []);
  });

  it("default to run_qa's learning rate 5e-5 and the post's sequence settings for distilbert-squad", () => {
    const args = trainScriptArgs(spec('distilbert-squad'), { outputDir: 'out', resume: false, evaluate: true });
    assert.equal(Number(valueOf(args, '--learning_rate')), 5e-5);
    assert.equal(valueOf(args, '--max_seq_length'), '384');
    assert.equal(valueOf(args, '--doc_stride'), '128');
    assert.equal(valueOf(args, '--model_name_or_path'), 'distilbert/distilbert-base-uncased');
    assert.equal(valueOf(args, '--dataset_name'), 'rajpurkar/squad');
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
});
