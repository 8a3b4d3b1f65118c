// The trained model's scores, published when training returns: search attributes for `tuneforge list`
// and the Web UI's columns, and the run's progress for `tuneforge status` and the UI's current details.
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { EvalScores, TrainResult } from '../activities/types';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import type { MetricName } from '../records/scores';
import { metricsOfScores } from '../run-spec/tasks';
import type { StepTracker } from './step-tracker';

/** Runs whose training returned before this upsert existed must replay without it. */
export const EVAL_SCORES_PATCH = 'tuneforge-eval-scores';

/**
 * The scores that have a search attribute (registered with the namespace: a new one needs the server's
 * registration too). Classification's scores have none yet, so a classifier publishes none.
 */
const METRIC_ATTRIBUTES: ReadonlyArray<[MetricName, typeof SEARCH_ATTRIBUTES.f1]> = [
  ['f1', SEARCH_ATTRIBUTES.f1],
  ['exact_match', SEARCH_ATTRIBUTES.exactMatch],
];

/** The search attribute updates for these scores; none when evaluation is off, or for scores without an attribute. */
export function evaluationSearchAttributes(scores: EvalScores | null): SearchAttributeUpdatePair[] {
  if (scores === null) return [];
  const metrics = metricsOfScores(scores);
  return METRIC_ATTRIBUTES.flatMap(([metric, key]) => {
    const value = metrics[metric];
    return value === undefined ? [] : [{ key, value }];
  });
}

export function publishEvaluation(result: TrainResult, tracker: StepTracker): void {
  // A result recorded by a worker older than the scores has no eval field.
  const scores = result.eval ?? null;
  tracker.setEvaluation(scores);
  const updates = evaluationSearchAttributes(scores);
  if (updates.length > 0 && patched(EVAL_SCORES_PATCH)) upsertSearchAttributes(updates);
}
