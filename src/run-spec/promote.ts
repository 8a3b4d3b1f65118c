// The spec's `promote` field: the quality gate a run must pass before it becomes its name's current model,
// and the check that the run's task can produce the metric the gate reads. Pure: workflow code imports it.
import { z } from 'zod';
import { METRIC_NAMES, type MetricName } from '../records/scores';
import type { RecipeName, TaskName } from './inputs';
import { TASK_DEFINITIONS } from './tasks';
import { taskOf } from './trainer-values';

/** The metrics a gate may read: every score any task reports (the task table says which task reports which). */
export const PROMOTION_METRICS = METRIC_NAMES;
export type PromotionMetric = MetricName;

export const promote = z.strictObject({
  metric: z.enum(PROMOTION_METRICS),
  /** The lowest score (0-100) a model may have to become current. */
  min: z.number().min(0).max(100),
  /** Also require a score strictly above the current model's. */
  beatCurrent: z.boolean().default(true),
});

export type PromoteSettings = z.output<typeof promote>;

interface PromoteCheckInput {
  task?: TaskName | undefined;
  recipe?: RecipeName | undefined;
  training: { evaluate: boolean };
  promote?: PromoteSettings;
}

export interface PromoteProblem {
  path: Array<string | number>;
  message: string;
  input: unknown;
}

/** Problems with `promote` given the rest of the spec: a metric the task cannot produce, or no evaluation to read it from. */
export function promoteProblems(spec: PromoteCheckInput): PromoteProblem[] {
  const gate = spec.promote;
  if (!gate) return [];
  const problems: PromoteProblem[] = [];
  if (!spec.training.evaluate)
    problems.push({
      path: ['promote'],
      input: gate,
      message: 'needs the model scored: training.evaluate false leaves nothing to promote on',
    });
  // The task the trainer will run (the preset's, else question answering): every task has an entry, so a
  // metric is always checked against what the run can produce.
  const task = taskOf(spec);
  // Named in the gate's own metric order (f1 before exact_match), as the refusal has always read.
  const produced = PROMOTION_METRICS.filter((metric) => TASK_DEFINITIONS[task].metrics.includes(metric));
  if (!produced.includes(gate.metric))
    problems.push({
      path: ['promote', 'metric'],
      input: gate.metric,
      message: `${task} evaluation produces ${produced.join(' and ')}, not ${gate.metric}`,
    });
  return problems;
}
