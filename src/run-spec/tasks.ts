// The task table: one record per task (its trainer, its scores, its defaults); every other place reads it,
// so a third task is one entry here and a missing one is a type error. Pure: workflow code imports it.
import type { EvalScores, MetricName, RunMetrics } from '../records/scores';
import type { TaskName } from './inputs';

/** Trainer values a spec may leave out. docStride exists only where long contexts are split into windows (QA). */
export interface TaskDefaults {
  learningRate: number;
  maxSeqLength: number;
  docStride?: number;
}

/** A score's field in EvalScores (camelCase, as the progress parser builds them). */
export type ScoreField = 'exactMatch' | 'f1' | 'accuracy' | 'macroF1';

/** One score of a task: its run.json name, its field in EvalScores, and how summaries label it. */
export interface ScoreDefinition {
  metric: MetricName;
  field: ScoreField;
  label: string;
}

export interface TaskDefinition {
  name: TaskName;
  /** The trainer, in recipes/common/. */
  script: string;
  /** The trainer's PROGRAM: the `<prefix>: ...` line it prints when it refuses data or a model (exit 65). */
  refusalPrefix: string;
  /** The scores its evaluation reports, by run.json's names (0-100), headline first. */
  metrics: readonly MetricName[];
  /** The same scores in summary order, with their EvalScores fields and labels. */
  scores: readonly [ScoreDefinition, ScoreDefinition];
  /** Hugging Face's pipeline for the delivered model (the model card's `pipeline_tag`). */
  pipelineTag: string;
  defaults: TaskDefaults;
}

export const TASK_DEFINITIONS: Readonly<Record<TaskName, TaskDefinition>> = {
  // Hugging Face's run_qa.py: learning rate 3e-5, max_seq_length 384, doc_stride 128.
  'question-answering': {
    name: 'question-answering',
    script: 'train_qa.py',
    refusalPrefix: 'train_qa',
    metrics: ['exact_match', 'f1'],
    scores: [
      { metric: 'exact_match', field: 'exactMatch', label: 'Exact match' },
      { metric: 'f1', field: 'f1', label: 'F1' },
    ],
    pipelineTag: 'question-answering',
    defaults: { learningRate: 3e-5, maxSeqLength: 384, docStride: 128 },
  },
  // Hugging Face's run_glue.py: learning rate 2e-5, max_seq_length 128 (classification truncates; no stride).
  'text-classification': {
    name: 'text-classification',
    script: 'train_cls.py',
    refusalPrefix: 'train_cls',
    metrics: ['accuracy', 'macro_f1'],
    scores: [
      { metric: 'accuracy', field: 'accuracy', label: 'Accuracy' },
      { metric: 'macro_f1', field: 'macroF1', label: 'Macro-F1' },
    ],
    pipelineTag: 'text-classification',
    defaults: { learningRate: 2e-5, maxSeqLength: 128 },
  },
};

export const TASK_LIST: readonly TaskDefinition[] = Object.values(TASK_DEFINITIONS);

/** A score's value by its EvalScores field, or undefined when these scores have no such field. */
function fieldValue(scores: EvalScores, field: ScoreField): number | undefined {
  const value: unknown = Object.entries(scores).find(([name]) => name === field)?.[1];
  return typeof value === 'number' ? value : undefined;
}

/** The task whose scores these are: the one whose every score field they hold. Fails closed on scores of no task. */
export function taskOfScores(scores: EvalScores): TaskDefinition {
  const task = TASK_LIST.find((t) => t.scores.every((score) => fieldValue(scores, score.field) !== undefined));
  if (!task) throw new Error(`scores with fields ${Object.keys(scores).join(', ')} belong to no task in TASK_DEFINITIONS`);
  return task;
}

/** The scores as [definition, value] pairs in summary order. */
export function scoreValues(scores: EvalScores): Array<[ScoreDefinition, number]> {
  return taskOfScores(scores).scores.map((score) => [score, fieldValue(scores, score.field) ?? Number.NaN]);
}

/** The scores under run.json's names (the spec's promote.metric): e.g. { exact_match, f1 }. */
export function metricsOfScores(scores: EvalScores): RunMetrics {
  return Object.fromEntries(scoreValues(scores).map(([score, value]) => [score.metric, value]));
}
