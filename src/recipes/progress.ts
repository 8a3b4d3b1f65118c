// Parses the trainer's machine-readable progress lines ("TUNEFORGE {json}") written by recipes/common, each
// checked against the one schema both sides share (recipes/common/progress-schema.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/package-root';
import type { EvalScores, MetricName, RunMetrics } from '../records/scores';
import { TASK_LIST } from '../run-spec/tasks';
import { assertSupportedSchema, schemaProblems, type SchemaNode } from './schema-check';

export const PROGRESS_PREFIX = 'TUNEFORGE ';

/** The TypeScript view of progress-schema.json; parseProgressLine hands out only values that conform to it. */
export type ProgressEvent =
  | {
      event: 'start';
      world_size: number;
      max_steps: number;
      resumed_from: string | null;
      resumed_step: number;
      per_device_train_batch_size?: number;
      gradient_accumulation_steps?: number;
    }
  | { event: 'step'; step: number; max_steps: number; loss: number | null; epoch?: number | null; learning_rate?: number | null }
  | { event: 'checkpoint'; step: number; path: string }
  | { event: 'stopped'; step: number }
  | {
      event: 'done';
      global_step: number;
      train_runtime: number;
      train_samples_per_second: number;
      train_steps_per_second: number;
      /** Samples per second after the first step (warm-up excluded); null when too few steps. */
      steady_samples_per_second?: number | null;
      first_loss: number | null;
      final_loss: number | null;
      eval_loss: number | null;
      /** SQuAD v1.1 scores (0-100) and the number of examples scored; null when evaluation is off. Absent from trainers older than the scores. */
      eval_exact_match?: number | null;
      eval_f1?: number | null;
      eval_samples?: number | null;
      /** text-classification's scores (0-100), from train_cls.py. */
      eval_accuracy?: number | null;
      eval_macro_f1?: number | null;
      output_dir: string;
      /** Absolute path of the final model (`<output_dir>/model`). */
      model_dir?: string;
      /** Training was told to finish before its last step (SIGUSR2: the run's spend or time cap). */
      finished_early?: boolean;
    };

export function progressSchemaPath(): string {
  return join(packageRoot(), 'recipes', 'common', 'progress-schema.json');
}

let schema: SchemaNode | undefined;
export function progressSchema(): SchemaNode {
  if (schema) return schema;
  const loaded: unknown = JSON.parse(readFileSync(progressSchemaPath(), 'utf8'));
  assertSupportedSchema(loaded);
  schema = loaded;
  return schema;
}

/** The problems of a decoded progress line against the schema; empty when it conforms. */
export function progressEventProblems(value: unknown): string[] {
  return schemaProblems(progressSchema(), value);
}

export type ProgressWarning = (message: string) => void;

const warnOnConsole: ProgressWarning = (message) => console.warn(message);

/**
 * The event of a progress line; undefined for any other line. A line with the prefix that is not valid JSON or
 * does not match the schema is ignored with a warning: a trainer and an orchestrator that disagree on the
 * format must show up in the logs, not as a value of the wrong shape.
 */
export function parseProgressLine(line: string, warn: ProgressWarning = warnOnConsole): ProgressEvent | undefined {
  const at = line.indexOf(PROGRESS_PREFIX);
  if (at < 0) return undefined;
  const text = line.slice(at + PROGRESS_PREFIX.length);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    warn(`ignored a malformed progress line (not JSON): ${shorten(text)}`);
    return undefined;
  }
  const problems = progressEventProblems(value);
  if (problems.length > 0) {
    warn(`ignored a progress line that does not match progress-schema.json (${problems.join('; ')}): ${shorten(text)}`);
    return undefined;
  }
  return value as ProgressEvent;
}

function shorten(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text);
}

type DoneEvent = Extract<ProgressEvent, { event: 'done' }>;

/** A score (or the count scored) of the done event by its run.json name: the trainer reports `eval_<name>`. */
function doneScore(done: DoneEvent, metric: MetricName | 'samples'): number | undefined {
  const value = done[`eval_${metric}`];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The scores of a done event (its task's, by the task table), or null unless a task's pair and the sample count are numbers. */
export function evalScoresOf(done: DoneEvent): EvalScores | null {
  const samples = doneScore(done, 'samples');
  if (samples === undefined) return null;
  for (const task of TASK_LIST) {
    const values = task.scores.map((score) => [score.field, doneScore(done, score.metric)] as const);
    // Built from the task's own score fields, all numbers: one of EvalScores' forms.
    if (values.every(([, value]) => value !== undefined)) return { ...Object.fromEntries(values), samples } as EvalScores;
  }
  return null;
}

/** The done event's scores under run.json's names (`metrics`): every task's that the trainer reported. */
export function runMetricsOf(done: DoneEvent): RunMetrics {
  const reported = TASK_LIST.flatMap((task) => task.metrics).map((metric) => [metric, doneScore(done, metric)] as const);
  return Object.fromEntries(reported.filter(([, value]) => value !== undefined));
}

export type { RunMetrics };

/** What a follower of a training job knows so far; JSON-plain so it can be a heartbeat's details. */
export interface TrainingProgress {
  jobId: string;
  logOffset: number;
  step: number;
  maxSteps: number;
  worldSize: number;
  firstLoss: number | null;
  loss: number | null;
  lastCheckpoint: string | null;
  resumedStep: number;
  /** Epochs trained so far (fractional), from the last step line. */
  epoch: number | null;
  done: Extract<ProgressEvent, { event: 'done' }> | null;
}

export function emptyProgress(jobId: string): TrainingProgress {
  return {
    jobId,
    logOffset: 0,
    step: 0,
    maxSteps: 0,
    worldSize: 0,
    firstLoss: null,
    loss: null,
    lastCheckpoint: null,
    resumedStep: 0,
    epoch: null,
    done: null,
  };
}

export function applyProgressEvent(progress: TrainingProgress, event: ProgressEvent): TrainingProgress {
  switch (event.event) {
    case 'start':
      return {
        ...progress,
        worldSize: event.world_size,
        maxSteps: event.max_steps,
        resumedStep: event.resumed_step,
        step: event.resumed_step,
      };
    case 'step':
      return {
        ...progress,
        step: event.step,
        maxSteps: event.max_steps,
        loss: event.loss,
        firstLoss: progress.firstLoss ?? event.loss,
      };
    case 'checkpoint':
      return { ...progress, lastCheckpoint: event.path };
    case 'stopped':
      return { ...progress, step: event.step };
    case 'done':
      return { ...progress, step: event.global_step, done: event };
  }
}
