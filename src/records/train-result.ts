// What a finished (or early-finished) distributed training job reports: a plain record that imports nothing
// outside src/records/.
import type { EvalScores, RunMetrics } from './scores';

export interface TrainResult {
  globalStep: number;
  worldSize: number;
  firstLoss: number | null;
  finalLoss: number | null;
  evalLoss: number | null;
  samplesPerSecond: number;
  stepsPerSecond: number;
  runtimeSeconds: number;
  lastCheckpoint: string | null;
  resumedStep: number;
  /** Epochs trained by the end (fractional). */
  epochs: number | null;
  /** Null when the spec turned evaluation off (training.evaluate: false). */
  eval: EvalScores | null;
  /** Every score the trainer reported, by run.json's names; absent from results of older workers. */
  metrics?: RunMetrics;
  /** Told to finish before its last step (finishBy): the model is what was trained by then. */
  finishedEarly?: boolean;
}
