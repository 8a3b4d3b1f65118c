// Text for people: the run summary and status tables.
import { recoveryLine } from '../common/recovery-text';
import { formatBytes } from './commands/artifacts';
import type { RunStatus } from './commands/status';
import type { EvalScores } from '../activities/types';
import { bf16Line } from '../common/bf16';
import { findProviderTraits } from '../providers/capabilities';
import { scoreRows, scoreText } from '../common/score-text';
import { promotionLine } from '../common/promotion';
import type { EvaluationProgress, RunProgress, RunSummary } from '../workflows/definitions';

export function formatSummary(summary: RunSummary): string {
  const t = summary.training;
  const lines = [
    `Run ${summary.workflowId} (${summary.recipe} on ${summary.provider}, ${summary.nodesLaunched} nodes)`,
    '',
    'Step                 Seconds  Note',
    ...summary.steps.map((s) => `${s.name.padEnd(20)} ${s.seconds.toFixed(1).padStart(7)}  ${s.note ?? ''}`),
    '',
    `Sanity run:          ${summary.sanity.steps} steps, ${summary.sanity.samplesPerSecond.toFixed(1)} samples/s on one node`,
    ...(summary.sanity.bf16 ? [bf16Line(summary.sanity.bf16)] : []),
    `Distributed run:     ${t.globalStep} steps on ${t.worldSize} ranks, ${t.samplesPerSecond.toFixed(1)} samples/s, ${t.runtimeSeconds.toFixed(1)} s`,
    `Training loss:       first ${fmt(t.firstLoss)}, last ${fmt(t.finalLoss)}${t.evalLoss === null ? '' : `, eval ${fmt(t.evalLoss)}`}`,
    ...evaluationLines(t.eval),
    ...(summary.promotion ? [`Promotion:           ${promotionLine(summary.promotion)}`] : []),
    ...(summary.hubModel
      ? [
          `Hub model:           ${summary.hubModel.id}@${summary.hubModel.revision} = commit ${summary.hubModel.commit} (${summary.hubModel.files} files, ${formatBytes(summary.hubModel.bytes)}, downloaded once by the master)`,
        ]
      : []),
    `Model:               ${summary.artifacts.model}`,
    `Artifacts:           ${summary.artifacts.uri} (model ${formatBytes(summary.artifacts.modelBytes)} uploaded in ${summary.artifacts.uploadSeconds.toFixed(1)} s)`,
    `Last checkpoint:     ${t.lastCheckpoint ? t.lastCheckpoint.slice(t.lastCheckpoint.lastIndexOf('/') + 1) : '(none)'}${t.resumedStep > 0 ? ` (resumed from step ${t.resumedStep})` : ''}`,
    scalingEfficiencyLine(summary),
    `Time per step:       ${summary.efficiency.secondsPerStep === null ? 'n/a' : `${summary.efficiency.secondsPerStep.toFixed(3)} s`}`,
    `Estimated cost:      $${summary.efficiency.costUsd.toFixed(2)}${summary.efficiency.costPerEpochUsd === null ? '' : `, $${summary.efficiency.costPerEpochUsd.toFixed(2)} per epoch`}${spotSavings(summary)}${unpriced(summary)}`,
    `Baked image reused:  ${summary.imageReused ? 'yes' : 'no'}`,
    `Recoveries:          ${summary.recoveries} (nodes launched ${summary.nodesLaunched})`,
    ...(summary.recoveryLog ?? []).map((r) => `  - ${recoveryLine(r)}`),
    `Nodes left:          ${summary.teardown.nodesLeft}${summary.teardown.kept ? ' (kept on request)' : ''}`,
  ];
  return lines.join('\n');
}

/** Instance types the spend meter had no price for (their nodes cost nothing in the estimate). */
function unpriced(summary: RunSummary): string {
  const types = summary.efficiency.unpricedTypes ?? [];
  return types.length > 0 ? ` (no price for ${types.join(', ')})` : '';
}

/** What spot saved against the same node lifetimes on-demand; nothing when no node ran on spot. */
export function spotSavings(summary: RunSummary): string {
  const { costUsd, onDemandCostUsd } = summary.efficiency;
  if (onDemandCostUsd === undefined || onDemandCostUsd <= costUsd || onDemandCostUsd <= 0) return '';
  const saved = onDemandCostUsd - costUsd;
  return `; spot saved $${saved.toFixed(2)} (${((saved / onDemandCostUsd) * 100).toFixed(0)}%) against $${onDemandCostUsd.toFixed(2)} on-demand`;
}

/** The blog's measure, only where each node has cores of its own; on one shared machine it says why not. */
export function scalingEfficiencyLine(summary: RunSummary): string {
  const label = 'Scaling efficiency:  ';
  // Summaries recorded before nodesShareCpus existed: only local nodes ever shared a machine.
  const shared = summary.efficiency.nodesShareCpus ?? (findProviderTraits(summary.provider)?.nodesShareCpus ?? false);
  if (shared) return `${label}n/a (local nodes share this machine's CPUs)`;
  const value = summary.efficiency.scalingEfficiency;
  return `${label}${pct(value)} (distributed samples/s / (${summary.nodesLaunched} x single-node samples/s))`;
}

export function formatStatus(status: RunStatus): string {
  const lines = [`${status.workflowId}: ${status.status}`];
  const p = status.progress;
  if (!p) return lines.join('\n');
  lines.push(`stage: ${p.stage}${p.error ? ` (${p.error.split('\n')[0]})` : ''}`);
  for (const s of p.steps)
    lines.push(`  ${s.name.padEnd(20)} ${s.status.padEnd(8)} ${s.seconds === undefined ? '' : `${s.seconds.toFixed(1)} s`}`);
  if (p.nodes.length > 0)
    lines.push(`nodes: ${p.nodes.map((n) => `${n.name} (${n.role === 'standby' ? 'standby, ' : ''}${n.state})`).join(', ')}`);
  for (const [i, r] of (p.recoveries ?? []).entries()) lines.push(`recovery ${i + 1}: ${recoveryLine(r)}`);
  if (p.keptAccess?.length) lines.push('kept for debugging; log in with:', ...p.keptAccess.map((l) => `  ${l}`));
  if (p.artifacts) lines.push(`artifacts: ${p.artifacts.uri}`, ...(p.artifacts.model ? [`model: ${p.artifacts.model}`] : []));
  if (p.training) lines.push(`training: step ${p.training.step}/${p.training.maxSteps}, loss ${fmt(p.training.loss)}`);
  if (p.evaluation) lines.push(`evaluation: ${evaluationStatus(p.evaluation, p.stage)}`);
  if (p.promotion) lines.push(`promotion: ${promotionLine(p.promotion)}`);
  if (p.bf16) lines.push(bf16Line(p.bf16));
  return lines.join('\n');
}

/** Summary lines for the model's scores; none for runs from before scores existed (no eval field). */
function evaluationLines(scores: EvalScores | null | undefined): string[] {
  if (scores === undefined) return [];
  if (scores === null) return ['Evaluation:          off'];
  return scoreRows(scores).map(([label, value]) => `${`${label}:`.padEnd(21)}${value}`);
}

function evaluationStatus(evaluation: EvaluationProgress, stage: RunProgress['stage']): string {
  const { enabled, scores } = evaluation;
  if (scores) return scoreText(scores);
  if (!enabled) return 'off';
  if (stage === 'completed') return 'no scores reported by the trainer';
  return stage === 'failed' ? 'none (the run failed)' : 'after training';
}

function pct(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(0)}%`;
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(4);
}
