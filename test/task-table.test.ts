// The task table (src/run-spec/tasks.ts) is the one place a task is described: this walks every task and every
// preset through what reads it (spec check, plan, promotion, scores, the trainer's refusal, search attributes)
// so a place that keeps its own copy, or fails open on a task it does not know, shows up here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';
import { decidePromotion, metricValue } from '../src/common/promotion';
import { scoreRows, scoreText } from '../src/common/score-text';
import { evalScoresOf, runMetricsOf, type ProgressEvent } from '../src/recipes/progress';
import { buildRunPlan } from '../src/recipes/run-plan';
import { trainerRefusal } from '../src/recipes/trainer-refusal';
import { REMOTE } from '../src/recipes/remote-paths';
import type { EvalScores } from '../src/records/scores';
import type { TrainResult } from '../src/records/train-result';
import { PRESETS, RECIPES, TASKS, type TaskName } from '../src/run-spec/inputs';
import { PROMOTION_METRICS } from '../src/run-spec/promote';
import { metricsOfScores, TASK_DEFINITIONS, TASK_LIST, taskOfScores, type TaskDefinition } from '../src/run-spec/tasks';
import { validateRunSpec } from '../src/run-spec/validate';
import { evaluationSearchAttributes } from '../src/workflows/evaluation';
import { scoresOf } from '../src/workflows/promotion';

/** Scores a trainer of this task would report: distinct values, so a swapped field shows. */
function scoresFor(task: TaskDefinition): EvalScores {
  const values = Object.fromEntries(task.scores.map((score, i) => [score.field, 41.5 + i * 10]));
  return { ...values, samples: 16 } as unknown as EvalScores;
}

function trained(scores: EvalScores): TrainResult {
  return {
    globalStep: 5,
    worldSize: 2,
    firstLoss: 3,
    finalLoss: 1,
    evalLoss: null,
    samplesPerSecond: 10,
    stepsPerSecond: 1,
    runtimeSeconds: 5,
    lastCheckpoint: null,
    resumedStep: 0,
    epochs: null,
    eval: scores,
  };
}

function specProblems(spec: object): Array<{ path: string; message: string }> {
  const result = validateRunSpec({ name: 'walk', provider: 'local', training: { maxSteps: 5 }, ...spec });
  return result.ok ? [] : result.problems;
}

describe('the task table', () => {
  it('has one entry per task, and every task has a preset', () => {
    assert.deepEqual(Object.keys(TASK_DEFINITIONS).sort(), [...TASKS].sort());
    for (const task of TASK_LIST) {
      assert.equal(TASK_DEFINITIONS[task.name], task);
      assert.ok(RECIPES.some((recipe) => PRESETS[recipe].task === task.name), `${task.name} has a preset`);
      assert.deepEqual(
        task.scores.map((score) => score.metric),
        task.metrics,
        `${task.name}: scores and metrics name the same metrics in the same order`,
      );
    }
    assert.deepEqual(
      [...new Set(TASK_LIST.flatMap((task) => task.metrics))].sort(),
      [...PROMOTION_METRICS].sort(),
      'a gate may read exactly the metrics some task reports',
    );
  });

  it("names each trainer's own PROGRAM as its refusal prefix, and the refusal parser knows every one", () => {
    for (const task of TASK_LIST) {
      const script = readFileSync(join(packageRoot(), 'recipes/common', task.script), 'utf8');
      assert.match(script, new RegExp(`^PROGRAM = "${task.refusalPrefix}"$`, 'm'), task.script);
      const reason = `${REMOTE.inputs}/validation.jsonl: no label column`;
      assert.deepEqual(trainerRefusal(`noise\n${task.refusalPrefix}: ${reason}\n`), { path: 'data.validation', message: reason });
    }
    assert.equal(trainerRefusal('train_xx: not a trainer').message.startsWith('the trainer refused'), true);
  });

  for (const recipe of RECIPES) {
    const task = TASK_DEFINITIONS[PRESETS[recipe].task];
    const other = TASK_LIST.find((t) => t.name !== task.name);

    it(`preset ${recipe} (${task.name}): spec check, plan, promotion and scores read the table`, () => {
      // Spec check: a gate on any of the task's metrics is fine; another task's metric is refused by name.
      for (const metric of task.metrics) assert.deepEqual(specProblems({ recipe, promote: { metric, min: 10 } }), []);
      for (const metric of other?.metrics ?? []) {
        const problems = specProblems({ recipe, promote: { metric, min: 10 } });
        assert.deepEqual(
          problems.map((p) => p.path),
          ['promote.metric'],
          `${recipe} refuses a gate on ${metric}`,
        );
        assert.match(problems[0]?.message ?? '', new RegExp(`${task.name} evaluation produces ${PROMOTION_METRICS.filter((m) => task.metrics.includes(m)).join(' and ')}`));
      }
      // Plan: the task and its trainer.
      const checked = validateRunSpec({ name: 'walk', provider: 'local', recipe, training: { maxSteps: 5 } });
      assert.ok(checked.ok);
      const plan = buildRunPlan(checked.spec, null);
      assert.equal(plan.task, task.name);
      assert.equal(plan.trainerArgs[0], `${REMOTE.recipe}/common/${task.script}`);
      // Promotion: the trainer's scores under run.json's names, and the gate reads its metric.
      const scores = scoresFor(task);
      assert.equal(taskOfScores(scores), task);
      // The trainer's done event (eval_<metric>) reads back as the same scores.
      const done = {
        event: 'done',
        ...Object.fromEntries(task.scores.map((score, i) => [`eval_${score.metric}`, 41.5 + i * 10])),
        eval_samples: 16,
      } as Extract<ProgressEvent, { event: 'done' }>;
      assert.deepEqual(evalScoresOf(done), scores);
      assert.deepEqual(runMetricsOf(done), metricsOfScores(scores));
      const metrics = scoresOf(trained(scores));
      assert.deepEqual(Object.keys(metrics ?? {}), [...task.metrics]);
      assert.deepEqual(metricsOfScores(scores), metrics);
      for (const metric of task.metrics) {
        const value = metricValue(metrics, metric);
        assert.equal(typeof value, 'number');
        assert.equal(decidePromotion({ metric, min: 10, beatCurrent: true }, value, undefined, 'wf').promoted, true);
      }
      // Scores in words, labelled and ordered by the table.
      const [first, second] = task.scores;
      assert.deepEqual(scoreRows(scores), [
        [first.label, '41.50 (16 examples)'],
        [second.label, '51.50'],
      ]);
      assert.equal(scoreText(scores), `${first.label.toLowerCase()} 41.50, ${second.label} 51.50 (16 examples)`);
    });
  }

  it('publishes the search attributes that exist: QA scores, none for classification', () => {
    const qa = evaluationSearchAttributes(scoresFor(TASK_DEFINITIONS['question-answering']));
    assert.deepEqual(
      qa.map((pair) => [pair.key.name, pair.value]),
      [
        ['TuneforgeF1', 51.5],
        ['TuneforgeExactMatch', 41.5],
      ],
    );
    assert.deepEqual(evaluationSearchAttributes(scoresFor(TASK_DEFINITIONS['text-classification'])), []);
    assert.deepEqual(evaluationSearchAttributes(null), []);
  });

  it('fails closed on scores of no task', () => {
    assert.throws(() => taskOfScores({ bleu: 3, samples: 1 } as unknown as EvalScores), /belong to no task/);
  });

  it('a task missing from the table is a type error, not a silent pass', () => {
    // Compile-time: Record<TaskName, TaskDefinition> needs every task; this line fails to build if one goes missing.
    const names: Record<TaskName, true> = { 'question-answering': true, 'text-classification': true };
    assert.deepEqual(Object.keys(names).sort(), Object.keys(TASK_DEFINITIONS).sort());
  });
});
