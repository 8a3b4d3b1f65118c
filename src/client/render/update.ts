// The records `tuneforge watch` hands its renderers: each poll's view of the run, and how the run ended.
import type { RunProgress, RunSummary } from '../../workflows/definitions';
import type { RateEstimate } from './rate';

export interface WatchUpdate {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ... */
  status: string;
  /** The last progress the run answered with; null until it first answers. */
  progress: RunProgress | null;
  /** False when this poll's query got no answer (no worker up): `progress` is the last known state. */
  answered: boolean;
  /** ISO time of the last answer, null if none. */
  answeredAt: string | null;
  rate: RateEstimate | null;
}

export interface WatchFailure {
  /** The failure type (an ApplicationFailure's type, else the failure class: CancelledFailure, TerminatedFailure, ...). */
  type: string;
  message: string;
}

export interface WatchEnd {
  workflowId: string;
  status: string;
  summary?: RunSummary;
  failure?: WatchFailure;
}

export interface WatchRenderer {
  /** Called after every poll; renderers that print per change compare changeKey(). */
  update(update: WatchUpdate): void;
  end(end: WatchEnd, last: WatchUpdate): void;
}

/** What counts as a change worth a line: status, answering or not, stage, steps, nodes, training step and loss. */
export function changeKey(u: WatchUpdate): string {
  const p = u.progress;
  return JSON.stringify([
    u.status,
    u.answered,
    p?.stage,
    p?.steps.map((s) => s.status),
    p?.nodes.map((n) => `${n.name}:${n.state}`),
    p?.training ? [p.training.stage, p.training.step, p.training.maxSteps, p.training.loss] : null,
    p?.recoveries?.length,
    p?.error,
  ]);
}

export function stepCounts(progress: RunProgress): { done: number; total: number; current?: string } {
  const finished = progress.steps.filter((s) => s.status === 'done' || s.status === 'skipped').length;
  const current = progress.steps.find((s) => s.status === 'running' || s.status === 'failed');
  return { done: finished, total: progress.steps.length, current: current?.name };
}

/** "recovered 2x (lost worker-1, standby)" once the run replaced lost nodes; empty before. */
export function recoveries(progress: RunProgress | null): string {
  // Optional chaining: a worker older than the recoveries field answers without it.
  const list = progress?.recoveries ?? [];
  const last = list.at(-1);
  const path = last?.path ? `, ${last.path}` : '';
  return last ? `recovered ${list.length}x (lost ${last.lostNodes.join(', ')}${path})` : '';
}
