// The model's scores as people and scripts see them: the run summary, `tuneforge status` (text and
// --json, through the workflow's progress query), and the Web UI's current details.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { EvalScores, TrainResult } from '../src/activities/types';
import { readStatus } from '../src/client/commands/status';
import { formatStatus, formatSummary } from '../src/client/format';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunProgress, RunSummary } from '../src/workflows/definitions';
import { renderDetails } from '../src/workflows/run-details';
import { StepTracker } from '../src/workflows/step-tracker';

const SCORES: EvalScores = { exactMatch: 77.7, f1: 85.8, samples: 10570 };
const CLASSIFIER_SCORES: EvalScores = { accuracy: 91.25, macroF1: 88.5, samples: 96 };

function summary(evalScores: EvalScores | null | undefined): RunSummary {
  const training: TrainResult = {
    globalStep: 346,
    worldSize: 8,
    firstLoss: 5.9,
    finalLoss: 1.2,
    evalLoss: null,
    samplesPerSecond: 196.7,
    stepsPerSecond: 0.77,
    runtimeSeconds: 450,
    lastCheckpoint: 'tuneforge/output/checkpoint-300',
    resumedStep: 0,
    epochs: 1,
    eval: evalScores ?? null,
  };
  // A summary recorded before scores existed has no eval field at all.
  if (evalScores === undefined) delete (training as Partial<TrainResult>).eval;
  return {
    workflowId: 'distilbert-squad-1',
    artifacts: {
      uri: 's3://bucket/runs/distilbert-squad/distilbert-squad-1/',
      model: 's3://bucket/runs/distilbert-squad/distilbert-squad-1/model/',
      evaluation: null,
      runRecord: null,
      modelBytes: 268_000_000,
      modelFiles: 6,
      uploadSeconds: 4.2,
    },
    runName: 'distilbert-squad',
    provider: 'aws',
    recipe: 'distilbert-squad',
    steps: [{ name: 'distributed-train', seconds: 460 }],
    imageReused: true,
    nodesLaunched: 4,
    recoveries: 0,
    sanity: { steps: 50, stepsPerSecond: 0.2, samplesPerSecond: 56, firstLoss: 6, finalLoss: 4 },
    training,
    teardown: { nodesTerminated: 4, nodesLeft: 0, kept: false, access: [] },
    efficiency: { scalingEfficiency: 0.87, secondsPerStep: 1.3, costUsd: 3.1, costPerEpochUsd: 3.1 },
  };
}

/** The progress a run's workflow answers the query with, from a real StepTracker. */
function progress(evaluate: boolean, scores: EvalScores | null, end: 'completed' | 'running'): RunProgress {
  const spec = validateRunSpec({
    name: 'render-test',
    provider: 'local',
    recipe: 'tiny-qa',
    training: { maxSteps: 5, evaluate },
  });
  assert.ok(spec.ok);
  const tracker = new StepTracker(spec.spec);
  if (scores) tracker.setEvaluation(scores);
  if (end === 'completed') tracker.complete();
  return tracker.snapshot();
}

/** Just enough of a Client for readStatus: describe() and the progress query. */
function clientAnswering(answer: RunProgress): Client {
  const handle = { describe: async () => ({ status: { name: 'COMPLETED' } }), query: async () => answer };
  return { workflow: { getHandle: () => handle } } as unknown as Client;
}

describe('run summary', () => {
  it('shows exact match and F1 with the examples scored', () => {
    const lines = formatSummary(summary(SCORES)).split('\n');
    assert.ok(lines.includes('Exact match:         77.70 (10570 examples)'), lines.join('\n'));
    assert.ok(lines.includes('F1:                  85.80'));
    assert.ok(!lines.some((l) => l.startsWith('Evaluation:')));
  });

  it("shows a classifier's accuracy and macro-F1 instead", () => {
    const lines = formatSummary(summary(CLASSIFIER_SCORES)).split('\n');
    assert.ok(lines.includes('Accuracy:            91.25 (96 examples)'), lines.join('\n'));
    assert.ok(lines.includes('Macro-F1:            88.50'));
    assert.ok(!lines.some((l) => /^(Exact match|F1):/.test(l)));
  });

  it('says evaluation was off when the run did not evaluate', () => {
    const text = formatSummary(summary(null));
    assert.match(text, /^Evaluation: {10}off$/m);
    assert.doesNotMatch(text, /Exact match|F1:/);
  });

  it('says nothing about evaluation for runs from before scores existed', () => {
    assert.doesNotMatch(formatSummary(summary(undefined)), /Evaluation|Exact match|F1:/);
  });
});

describe('tuneforge status', () => {
  it('--json carries the scores from the run progress', async () => {
    const status = await readStatus(clientAnswering(progress(true, SCORES, 'completed')), 'run-1');
    const json = JSON.parse(JSON.stringify(status, null, 2)) as { status: string; progress: RunProgress };
    assert.equal(json.status, 'COMPLETED');
    assert.deepEqual(json.progress.evaluation, { enabled: true, scores: SCORES });
    assert.match(formatStatus(status), /^evaluation: exact match 77\.70, F1 85\.80 \(10570 examples\)$/m);
  });

  it("prints a classifier's scores on the evaluation line", async () => {
    const status = await readStatus(clientAnswering(progress(true, CLASSIFIER_SCORES, 'completed')), 'run-3');
    assert.match(formatStatus(status), /^evaluation: accuracy 91\.25, Macro-F1 88\.50 \(96 examples\)$/m);
  });

  it('--json and the text say evaluation is off when the spec turned it off', async () => {
    const status = await readStatus(clientAnswering(progress(false, null, 'completed')), 'run-2');
    assert.deepEqual((JSON.parse(JSON.stringify(status)) as { progress: RunProgress }).progress.evaluation, {
      enabled: false,
      scores: null,
    });
    assert.match(formatStatus(status), /^evaluation: off$/m);
  });

  it('says scores come after training while the run goes on, and prints no evaluation line for older runs', async () => {
    assert.match(
      formatStatus(await readStatus(clientAnswering(progress(true, null, 'running')), 'r')),
      /^evaluation: after training$/m,
    );
    const older = progress(true, null, 'running');
    delete older.evaluation;
    assert.doesNotMatch(formatStatus(await readStatus(clientAnswering(older), 'r')), /evaluation/);
  });
});

describe('Web UI current details', () => {
  const row = (markdown: string, label: string) => markdown.split('\n').find((l) => l.startsWith(`| ${label} |`));

  it('show exact match and F1 once training returned them', () => {
    const details = renderDetails(progress(true, SCORES, 'completed'), undefined);
    assert.equal(row(details, 'Exact match'), '| Exact match | 77.70 (10570 examples) |');
    assert.equal(row(details, 'F1'), '| F1 | 85.80 |');
  });

  it("show a classifier's accuracy and macro-F1", () => {
    const details = renderDetails(progress(true, CLASSIFIER_SCORES, 'completed'), undefined);
    assert.equal(row(details, 'Accuracy'), '| Accuracy | 91.25 (96 examples) |');
    assert.equal(row(details, 'Macro-F1'), '| Macro-F1 | 88.50 |');
  });

  it('show no score rows before then, and one "off" row when evaluation is off', () => {
    const before = renderDetails(progress(true, null, 'running'), undefined);
    assert.equal(row(before, 'Exact match'), undefined);
    assert.equal(row(before, 'Evaluation'), undefined);
    const off = renderDetails(progress(false, null, 'completed'), undefined);
    assert.equal(row(off, 'Evaluation'), '| Evaluation | off |');
    assert.equal(row(off, 'F1'), undefined);
  });
});
