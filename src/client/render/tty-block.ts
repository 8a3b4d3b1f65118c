// The live block `tuneforge watch` redraws on a terminal: status, a steps bar, a training bar with ETA, node states.
import type { ProgressUpdate } from '../../activities/deps';
import type { RunProgress } from '../../workflows/definitions';
import { stateColor, statusColor, type Palette } from './colors';
import type { RateEstimate } from './rate';
import { bar, formatDuration, formatLoss } from './text';
import { recoveries, stepCounts, type WatchUpdate } from './update';

const BAR_WIDTH = 24;
const LABEL_WIDTH = 10;

export function ttyBlock(u: WatchUpdate, p: Palette, nowMs: number): string[] {
  const lines = [headerLine(u, p)];
  if (!u.answered) lines.push(p.yellow(staleNote(u)));
  const progress = u.progress;
  if (!progress) return lines;
  lines.push(stepsLine(progress, p, nowMs), trainingLine(progress.training, u.rate, p), nodesLine(progress, p));
  if (progress.error) lines.push(label('Error') + p.red(progress.error.split('\n')[0] ?? ''));
  return lines;
}

function label(text: string): string {
  return text.padEnd(LABEL_WIDTH);
}

function headerLine(u: WatchUpdate, p: Palette): string {
  const stage = u.progress ? `  stage ${p.bold(u.progress.stage)}` : '';
  const what = u.progress ? `  ${u.progress.recipe} on ${u.progress.provider}` : '';
  const recovered = recoveries(u.progress);
  return `${p.bold(u.workflowId)}  ${statusColor(p, u.status)(u.status)}${stage}${what}${recovered ? `  ${p.yellow(recovered)}` : ''}`;
}

function staleNote(u: WatchUpdate): string {
  const since = u.answeredAt ? `; last answer at ${u.answeredAt.slice(11, 19)}` : '';
  return u.progress
    ? `no answer from the run (is a worker up?)${since}; showing the last known state`
    : 'waiting for the run to answer (is a worker up?)';
}

function stepsLine(progress: RunProgress, p: Palette, nowMs: number): string {
  const { done, total, current } = stepCounts(progress);
  const step = progress.steps.find((s) => s.name === current);
  let tail = '';
  if (step) {
    const seconds = step.seconds ?? (step.startedAt ? (nowMs - Date.parse(step.startedAt)) / 1000 : 0);
    tail = `  ${stateColor(p, step.status)(step.name)} ${formatDuration(seconds)}`;
  }
  return `${label('Steps')}${p.green(bar(done, total, BAR_WIDTH))} ${done}/${total}${tail}`;
}

function trainingLine(training: ProgressUpdate | null, rate: RateEstimate | null, p: Palette): string {
  if (!training || training.maxSteps <= 0) return label('Training') + p.dim('no report yet');
  const eta = rate ? `  ETA ${formatDuration(rate.etaSeconds)}  ${rate.stepsPerSecond.toFixed(2)} steps/s` : '';
  const counts = `${training.step}/${training.maxSteps}`;
  return `${label('Training')}${p.cyan(bar(training.step, training.maxSteps, BAR_WIDTH))} ${counts}  loss ${formatLoss(training.loss)}${eta}  ${p.dim(training.stage)}`;
}

function nodesLine(progress: RunProgress, p: Palette): string {
  if (progress.nodes.length === 0) return label('Nodes') + p.dim('none');
  return label('Nodes') + progress.nodes.map((n) => `${n.name}:${stateColor(p, n.state, 'node')(n.state)}`).join('  ');
}
