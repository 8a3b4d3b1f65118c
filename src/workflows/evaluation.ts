// The trained model's scores, published when training returns: search attributes for `tuneforge list`
// and the Web UI's columns, and the run's progress for `tuneforge status` and the UI's current details.
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { EvalScores, TrainResult } from '../activities/types';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import type { StepTracker } from './step-tracker';

/** Runs whose training returned before this upsert existed must replay without it. */
export const EVAL_SCORES_PATCH = 'tuneforge-eval-scores';

/** The search attribute updates for these scores; none when evaluation is off, or for a classifier (no QA scores). */
export function evaluationSearchAttributes(scores: EvalScores | null): SearchAttributeUpdatePair[] {
  if (scores === null || !('exactMatch' in scores)) return [];
  return [
    { key: SEARCH_ATTRIBUTES.f1, value: scores.f1 },
    { key: SEARCH_ATTRIBUTES.exactMatch, value: scores.exactMatch },
  ];
}

export function publishEvaluation(result: TrainResult, tracker: StepTracker): void {
  // A result recorded by a worker older than the scores has no eval field.
  const scores = result.eval ?? null;
  tracker.setEvaluation(scores);
  const updates = evaluationSearchAttributes(scores);
  if (updates.length > 0 && patched(EVAL_SCORES_PATCH)) upsertSearchAttributes(updates);
}
