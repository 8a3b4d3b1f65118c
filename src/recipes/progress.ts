// Parses the trainer's machine-readable progress lines ("TUNEFORGE {json}") written by recipes/common.
import type { EvalScores } from '../activities/types';

export const PROGRESS_PREFIX = 'TUNEFORGE ';

export type ProgressEvent =
  | { event: 'start'; world_size: number; max_steps: number; resumed_from: string | null; resumed_step: number }
  | { event: 'step'; step: number; max_steps: number; loss: number; epoch?: number; learning_rate?: number }
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
      output_dir: string;
      /** Absolute path of the final model (`<output_dir>/model`). */
      model_dir?: string;
      /** Training was told to finish before its last step (SIGUSR2: the run's spend or time cap). */
      finished_early?: boolean;
    };

const KNOWN_EVENTS = new Set(['start', 'step', 'checkpoint', 'stopped', 'done']);

export function parseProgressLine(line: string): ProgressEvent | undefined {
  const at = line.indexOf(PROGRESS_PREFIX);
  if (at < 0) return undefined;
  try {
    const value = JSON.parse(line.slice(at + PROGRESS_PREFIX.length)) as { event?: unknown };
    return typeof value.event === 'string' && KNOWN_EVENTS.has(value.event) ? (value as ProgressEvent) : undefined;
  } catch {
    return undefined;
  }
}

/** The scores of a done event, or null unless all three are numbers (evaluation off, or a trainer without scores). */
export function evalScoresOf(done: Extract<ProgressEvent, { event: 'done' }>): EvalScores | null {
  const { eval_exact_match: exactMatch, eval_f1: f1, eval_samples: samples } = done;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  return finite(exactMatch) && finite(f1) && finite(samples) ? { exactMatch, f1, samples } : null;
}

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
