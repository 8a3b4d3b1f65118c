// The run's "current details" for the Web UI: a small markdown table kept up to date by the workflow.
import { promotionLine } from '../common/promotion';
import { recoveryLine } from '../common/recovery-text';
import { scoreRows } from '../common/score-text';
import type { EvaluationProgress, RunProgress } from './definitions';

export interface TrainingRate {
  /** Workflow time (ms) and step of the first training report seen. */
  sinceMs: number;
  sinceStep: number;
}

export function etaSeconds(progress: RunProgress, rate: TrainingRate | undefined, nowMs: number): number | undefined {
  const t = progress.training;
  if (!t || !rate || t.maxSteps <= 0 || t.step <= rate.sinceStep || nowMs <= rate.sinceMs) return undefined;
  const stepsPerSecond = (t.step - rate.sinceStep) / ((nowMs - rate.sinceMs) / 1000);
  return Math.max(0, (t.maxSteps - t.step) / stepsPerSecond);
}

export function renderDetails(progress: RunProgress, eta: number | undefined): string {
  const t = progress.training;
  const rows: Array<[string, string]> = [
    ['Stage', progress.stage],
    ...(t?.message ? [['Note', t.message] as [string, string]] : []),
    ['Nodes', progress.nodes.length === 0 ? '-' : progress.nodes.map((n) => `${n.name}: ${n.state}`).join(', ')],
    ['Step', t ? `${t.step} / ${t.maxSteps} (${t.stage})` : '-'],
    ['Loss', t?.loss === null || t?.loss === undefined ? '-' : t.loss.toFixed(4)],
    ['ETA', eta === undefined ? '-' : `${Math.round(eta)} s`],
    ['Last checkpoint', t?.lastCheckpoint ?? '-'],
    ['Artifacts', progress.artifacts?.uri ?? '-'],
    ...spendRows(progress.spend),
    ...evaluationRows(progress.evaluation),
    ...(progress.promotion ? [['Promotion', promotionLine(progress.promotion)] as [string, string]] : []),
    ...(progress.recoveries ?? []).map((r, i): [string, string] => [`Recovery ${i + 1}`, recoveryLine(r)]),
  ];
  if (progress.artifacts?.model) rows.push(['Model', progress.artifacts.model]);
  if (progress.error) rows.push(['Error', progress.error.split('\n')[0] ?? '']);
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`)].join('\n');
}

function spendRows(spend: RunProgress['spend']): Array<[string, string]> {
  if (!spend) return [];
  const budget = spend.budgetUsd === null ? '' : ` of a ${spend.budgetUsd.toFixed(2)} budget`;
  return [['Spend', `$${spend.usd.toFixed(2)}${budget} (estimate)`]];
}

/** The model's scores once training returned them; one "off" row when the spec turned evaluation off. */
function evaluationRows(evaluation: EvaluationProgress | undefined): Array<[string, string]> {
  if (evaluation?.enabled === false) return [['Evaluation', 'off']];
  const scores = evaluation?.scores;
  if (!scores) return [];
  return scoreRows(scores);
}
