// The promotion gate's decisions and the spec's `promote` field: pure functions, no server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decidePromotion, metricValue, parseCurrentPointer } from '../src/common/promotion';
import { validateRunSpec } from '../src/run-spec/validate';

const gate = { metric: 'f1' as const, min: 50, beatCurrent: true };
const spec = { name: 'gate-test', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 5 } };

function problemsOf(input: object): Array<{ path: string; message: string }> {
  const result = validateRunSpec(input);
  return result.ok ? [] : result.problems;
}

describe('promotion decision', () => {
  it('promotes the first model that reaches the minimum', () => {
    const d = decidePromotion(gate, 60, undefined, 'run-1');
    assert.equal(d.promoted, true);
    assert.match(d.reason, /f1 60\.00 reaches the minimum 50\.00; no model is current yet/);
    assert.equal(d.current, undefined);
  });

  it('refuses a model below the minimum, even with no current model', () => {
    const d = decidePromotion(gate, 49.99, undefined, 'run-1');
    assert.equal(d.promoted, false);
    assert.match(d.reason, /f1 49\.99 is below the minimum 50\.00/);
  });

  it('refuses a model that does not beat the current one, and a tie keeps the current one', () => {
    for (const value of [55, 70]) {
      const d = decidePromotion(gate, value, { workflowId: 'run-0', value: 70 }, 'run-1');
      assert.equal(d.promoted, false, `value ${value}`);
      assert.match(d.reason, /does not beat the current model's 70\.00 \(run-0\)/);
      assert.deepEqual(d.current, { workflowId: 'run-0', value: 70 });
    }
  });

  it('promotes a model that beats the current one, and says by how much in its reason', () => {
    const d = decidePromotion(gate, 70.5, { workflowId: 'run-0', value: 70 }, 'run-1');
    assert.equal(d.promoted, true);
    assert.match(d.reason, /beats the current model's 70\.00 \(run-0\)/);
  });

  it('with beatCurrent off, only the minimum counts', () => {
    const d = decidePromotion({ ...gate, beatCurrent: false }, 55, { workflowId: 'run-0', value: 90 }, 'run-1');
    assert.equal(d.promoted, true);
    assert.match(d.reason, /beatCurrent is off/);
  });

  it('the run that is already current stays promoted (an activity retry after its pointer write)', () => {
    const d = decidePromotion(gate, 60, { workflowId: 'run-1', value: 60 }, 'run-1');
    assert.equal(d.promoted, true);
  });

  it('refuses without a score, and when the current model has no score on this metric', () => {
    assert.equal(decidePromotion(gate, null, undefined, 'run-1').promoted, false);
    const d = decidePromotion(gate, 90, { workflowId: 'run-0', value: null }, 'run-1');
    assert.equal(d.promoted, false);
    assert.match(d.reason, /has no f1 score to compare with/);
  });

  it('reads each metric from the scores by its run.json name, and nothing else', () => {
    const scores = { exact_match: 40, f1: 50 };
    assert.equal(metricValue(scores, 'exact_match'), 40);
    assert.equal(metricValue(scores, 'f1'), 50);
    assert.equal(metricValue(scores, 'accuracy'), null);
    assert.equal(metricValue({ accuracy: 80, macro_f1: 75 }, 'macro_f1'), 75);
    assert.equal(metricValue({ f1: Number.NaN }, 'f1'), null);
    assert.equal(metricValue(null, 'f1'), null);
  });

  it('a pointer read from the store is checked field by field', () => {
    const pointer = { workflowId: 'w', model: 'file:///a/model/', metric: 'f1', value: 1, promotedAt: 't' };
    assert.deepEqual(parseCurrentPointer(pointer), pointer);
    for (const bad of [null, [], 'x', { ...pointer, value: '1' }, { ...pointer, metric: 'loss' }, { ...pointer, workflowId: 3 }])
      assert.equal(parseCurrentPointer(bad), undefined, JSON.stringify(bad));
  });
});

describe('spec: promote', () => {
  it('accepts a gate and defaults beatCurrent to true', () => {
    const result = validateRunSpec({ ...spec, promote: { metric: 'exact_match', min: 10 } });
    assert.ok(result.ok);
    assert.deepEqual(result.spec.promote, { metric: 'exact_match', min: 10, beatCurrent: true });
  });

  it('refuses a metric the task cannot produce, naming the field', () => {
    const problems = problemsOf({ ...spec, promote: { metric: 'accuracy', min: 10 } });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['promote.metric'],
    );
    assert.match(problems[0]?.message ?? '', /question-answering evaluation produces f1 and exact_match, not accuracy/);
  });

  it('reads the task field where the spec has one', () => {
    const withTask = { ...spec, task: 'text-classification', promote: { metric: 'f1', min: 10 } };
    // Until the task field exists this spec fails on it as an unknown field; with it, on the metric.
    const paths = problemsOf(withTask).map((p) => p.path);
    assert.ok(paths.includes('promote.metric') || paths.some((p) => p === '(spec)'), JSON.stringify(paths));
  });

  it('refuses a gate with evaluation off: nothing to promote on', () => {
    const problems = problemsOf({ ...spec, training: { maxSteps: 5, evaluate: false }, promote: { metric: 'f1', min: 0 } });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['promote'],
    );
    assert.match(problems[0]?.message ?? '', /training\.evaluate false/);
  });

  it('refuses what an attacker or a typo would write', () => {
    const cases: Array<[unknown, string]> = [
      [{ metric: 'loss', min: 1 }, 'promote.metric'],
      [{ metric: 'f1', min: -1 }, 'promote.min'],
      [{ metric: 'f1', min: 101 }, 'promote.min'],
      [{ metric: 'f1', min: Number.NaN }, 'promote.min'],
      [{ metric: 'f1', min: '50' }, 'promote.min'],
      [{ metric: 'f1' }, 'promote.min'],
      [{ metric: 'f1', min: 1, beatCurrent: 'yes' }, 'promote.beatCurrent'],
      [{ metric: 'f1', min: 1, __proto__: { x: 1 }, pointer: '../../x' }, 'promote'],
      ['f1', 'promote'],
    ];
    for (const [promote, path] of cases) {
      const paths = problemsOf({ ...spec, promote }).map((p) => p.path);
      assert.ok(paths.includes(path), `${JSON.stringify(promote)}: ${JSON.stringify(paths)}`);
    }
  });
});
