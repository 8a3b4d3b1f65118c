import type { EvalScores } from '../../src/activities/types';

/** A QA run's F1 (undefined for no scores or a classifier's). */
export function qaF1(scores: EvalScores | null | undefined): number | undefined {
  return scores && 'f1' in scores ? scores.f1 : undefined;
}
