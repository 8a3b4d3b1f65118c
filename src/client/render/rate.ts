// Training speed as the watcher sees it: steps per second between observed step changes, and the ETA from it.
import type { ProgressUpdate } from '../../activities/deps';

export interface RateEstimate {
  stepsPerSecond: number;
  etaSeconds: number;
}

interface Sample {
  stage: string;
  step: number;
  atMs: number;
}

/** Feed it every poll's training record; it measures from the first step seen in the current stage. */
export class StepRate {
  private origin: Sample | undefined;
  private latest: Sample | undefined;

  observe(training: ProgressUpdate | null, nowMs: number): void {
    if (!training || training.maxSteps <= 0) return;
    const sample = { stage: training.stage, step: training.step, atMs: nowMs };
    const restarted = !this.origin || !this.latest || this.origin.stage !== sample.stage || sample.step < this.latest.step;
    if (restarted) {
      // A new stage, or a resume from an earlier checkpoint: the old rate says nothing about this one.
      this.origin = sample;
      this.latest = sample;
    } else if (this.latest && sample.step > this.latest.step) {
      this.latest = sample;
    }
  }

  /** Undefined until two different steps were seen in the same stage. */
  estimate(training: ProgressUpdate | null, nowMs: number): RateEstimate | undefined {
    const { origin, latest } = this;
    if (!training || !origin || !latest || latest.step <= origin.step || latest.atMs <= origin.atMs) return undefined;
    if (training.stage !== latest.stage) return undefined;
    const stepsPerSecond = (latest.step - origin.step) / ((latest.atMs - origin.atMs) / 1000);
    const sinceLatest = (nowMs - latest.atMs) / 1000;
    const etaSeconds = Math.max(0, (training.maxSteps - latest.step) / stepsPerSecond - sinceLatest);
    return { stepsPerSecond, etaSeconds };
  }
}
