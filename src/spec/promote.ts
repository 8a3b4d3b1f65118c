// The spec's `promote` field: the quality gate a run must pass before it becomes its name's current model,
// and the check that the run's task can produce the metric the gate reads. Pure: workflow code imports it.
import { z } from 'zod';

export const PROMOTION_METRICS = ['f1', 'exact_match', 'accuracy', 'macro_f1'] as const;
export type PromotionMetric = (typeof PROMOTION_METRICS)[number];

/** The metrics each task's evaluation produces (all on a 0-100 scale). */
export const TASK_METRICS: Readonly<Record<string, readonly PromotionMetric[]>> = {
  'question-answering': ['f1', 'exact_match'],
  'text-classification': ['accuracy', 'macro_f1'],
};

/** Every recipe today trains question answering; a spec with a `task` field names its own. */
const RECIPE_TASKS: Readonly<Record<string, string>> = {
  'tiny-qa': 'question-answering',
  'distilbert-squad': 'question-answering',
  'tiny-cls': 'text-classification',
};

export const promote = z.strictObject({
  metric: z.enum(PROMOTION_METRICS),
  /** The lowest score (0-100) a model may have to become current. */
  min: z.number().min(0).max(100),
  /** Also require a score strictly above the current model's. */
  beatCurrent: z.boolean().default(true),
});

export type PromoteSettings = z.output<typeof promote>;

interface PromoteCheckInput {
  task?: unknown;
  recipe?: unknown;
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
  const task = taskOf(spec);
  const produced = task === undefined ? undefined : TASK_METRICS[task];
  if (produced && !produced.includes(gate.metric))
    problems.push({
      path: ['promote', 'metric'],
      input: gate.metric,
      message: `${task} evaluation produces ${produced.join(' and ')}, not ${gate.metric}`,
    });
  return problems;
}

function taskOf(spec: PromoteCheckInput): string | undefined {
  if (typeof spec.task === 'string') return spec.task;
  return typeof spec.recipe === 'string' ? RECIPE_TASKS[spec.recipe] : undefined;
}
