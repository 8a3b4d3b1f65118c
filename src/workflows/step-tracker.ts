// The run's progress as the workflow knows it: which step runs, how long each took, the nodes, training.
import type { RecoveryPath, ShrunkBatch } from '../records/recovery-record';
import type { ProgressUpdate } from '../activities/deps';
import type { EvalScores, NodeRecord } from '../activities/types';
import { failureText } from '../common/failure-summary';
import type { Bf16Record } from '../common/bf16';
import type { PromotionRecord } from '../common/promotion';
import { STEP_NAMES, type StepName } from '../common/names';
import { runTitle } from '../run-spec/expand-inputs';
import type { RunSpec } from '../run-spec/schema';
import type { RunProgress, StepProgress } from './definitions';

export class StepTracker {
  private readonly progress: RunProgress;

  constructor(
    spec: RunSpec,
    private readonly onChange: (progress: RunProgress) => void = () => undefined,
    /** The progress a previous run of a continue-as-new chain handed over. */
    restored?: RunProgress,
  ) {
    this.progress = restored ?? {
      runName: spec.name,
      provider: spec.provider,
      recipe: runTitle(spec),
      stage: 'starting',
      steps: STEP_NAMES.map((name) => ({ name, status: 'pending' })),
      nodes: [],
      training: null,
      recoveries: [],
      evaluation: { enabled: spec.training.evaluate, scores: null },
    };
  }

  snapshot(): RunProgress {
    return JSON.parse(JSON.stringify(this.progress)) as RunProgress;
  }

  /**
   * Runs one step, recording its status and duration. A step a previous run of the chain left running
   * keeps its start; `finished` says whether a result ends the step or leaves it running for the next run.
   */
  async run<T>(
    name: StepName,
    work: () => Promise<T>,
    note?: (result: T) => string | undefined,
    finished: (result: T) => boolean = () => true,
  ): Promise<T> {
    const step = this.step(name);
    const resumedAt = step.status === 'running' && step.startedAt ? Date.parse(step.startedAt) : undefined;
    const started = resumedAt ?? Date.now();
    Object.assign(step, { status: 'running', startedAt: new Date(started).toISOString() });
    this.progress.stage = name;
    this.changed();
    try {
      const result = await work();
      if (finished(result)) this.finish(step, started, 'done', note?.(result));
      return result;
    } catch (err) {
      this.finish(step, started, 'failed', failureText(err));
      throw err;
    }
  }

  setNodes(nodes: NodeRecord[], state?: string, standby: NodeRecord[] = []): void {
    this.progress.nodes = [
      ...nodes.map((n) => ({ name: n.name, role: n.role, address: n.address, state: state ?? n.state })),
      ...standby.map((n) => ({ name: n.name, role: 'standby', address: n.address, state: state ?? n.state })),
    ];
    this.changed();
  }

  keptCluster(access: string[]): void {
    this.progress.keptAccess = access;
    this.changed();
  }

  /** A loss: `lastStep` as the job's follower last read it, else the last step reported to the workflow. */
  recordRecovery(lostNodes: string[], cause: string | undefined, job: string, lastStep?: number): void {
    this.progress.recoveries.push({
      lostNodes,
      at: new Date(Date.now()).toISOString(),
      lastStep: lastStep ?? this.progress.training?.step ?? null,
      ...(cause ? { cause } : {}),
      job,
    });
    this.changed();
  }

  /** How the last recovery filled the lost places, and how many nodes it booted for them. */
  recoveryPath(path: RecoveryPath, filledBy: string[], launched: number, shrunk?: ShrunkBatch): void {
    const last = this.progress.recoveries.at(-1);
    if (!last) return;
    Object.assign(last, { path, filledBy, launched }, shrunk ? { batch: shrunk } : {});
    this.changed();
  }

  setArtifacts(artifacts: RunProgress['artifacts']): void {
    this.progress.artifacts = artifacts;
    this.changed();
  }

  setTraining(update: ProgressUpdate): void {
    const previous = this.progress.training;
    this.noteResumed(update);
    // A wait report (nodes booting during a replacement) carries no training counters: keep the last ones.
    const waitOnly = update.message !== undefined && update.maxSteps === 0;
    this.progress.training = waitOnly && previous && previous.maxSteps > 0 ? { ...previous, message: update.message } : update;
    this.changed();
  }

  /** The first step of a recovery's job: the seconds from the loss and the steps trained again. */
  private noteResumed(update: ProgressUpdate): void {
    const last = this.progress.recoveries.at(-1);
    const resumedStep = update.resumedStep;
    if (!last || last.secondsToResume !== undefined || update.jobId !== last.job || resumedStep === undefined) return;
    if (update.step <= resumedStep) return;
    last.resumedStep = resumedStep;
    last.secondsToResume = Math.round((Date.now() - Date.parse(last.at)) / 100) / 10;
    if (last.lastStep !== null) last.stepsRepeated = Math.max(0, last.lastStep - resumedStep);
  }

  setSpend(usd: number, budgetUsd: number | undefined): void {
    this.progress.spend = { usd, budgetUsd: budgetUsd ?? null };
    this.changed();
  }

  setEvaluation(scores: EvalScores | null): void {
    this.progress.evaluation = { enabled: this.progress.evaluation?.enabled ?? scores !== null, scores };
    this.changed();
  }

  setBf16(bf16: Bf16Record | undefined): void {
    if (!bf16) return;
    this.progress.bf16 = bf16;
    this.changed();
  }

  setPromotion(promotion: PromotionRecord): void {
    this.progress.promotion = promotion;
    this.changed();
  }

  complete(): void {
    this.progress.stage = 'completed';
    this.changed();
  }

  fail(message: string): void {
    this.progress.stage = 'failed';
    this.progress.error = message;
    this.changed();
  }

  durations(): Array<{ name: StepName; seconds: number; note?: string }> {
    return this.progress.steps
      .filter((s) => s.seconds !== undefined)
      .map((s) => ({ name: s.name, seconds: s.seconds ?? 0, ...(s.note ? { note: s.note } : {}) }));
  }

  private step(name: StepName): StepProgress {
    const step = this.progress.steps.find((s) => s.name === name);
    if (!step) throw new Error(`unknown step ${name}`);
    return step;
  }

  private finish(step: StepProgress, started: number, status: 'done' | 'failed', note?: string): void {
    const ended = Date.now();
    Object.assign(step, { status, endedAt: new Date(ended).toISOString(), seconds: (ended - started) / 1000, note });
    this.changed();
  }

  private changed(): void {
    this.onChange(this.progress);
  }
}
