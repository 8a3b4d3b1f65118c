// The promotion gate's place in the run: after the model is delivered and scored, promote-model decides
// and moves the name's current pointer; the decision goes to the run's progress, summary and search
// attributes. Runs without `promote` in their spec skip it (and so replay as before it existed).
import { CancellationScope, upsertSearchAttributes } from '@temporalio/workflow';
import type { DeliveredModel } from '../activities/artifacts';
import type { RunContext, TrainResult } from '../activities/types';
import { metricValue, type MetricScores, type PromotionRecord } from '../common/promotion';
import { SEARCH_ATTRIBUTES } from '../common/search-attributes';
import type { RunSpec } from '../run-spec/schema';
import { metricsOfScores } from '../run-spec/tasks';
import type { StepTracker } from './step-tracker';
import { steps } from './steps';

export async function promoteIfGated(
  ctx: RunContext,
  spec: RunSpec,
  trained: TrainResult,
  delivered: DeliveredModel,
  workflowId: string,
  tracker: StepTracker,
): Promise<PromotionRecord | undefined> {
  const gate = spec.promote;
  if (!gate) return undefined;
  const value = metricValue(scoresOf(trained), gate.metric);
  // Not cancellable: a cancel must not leave the pointer moved by a run that reports it was not promoted.
  const promotion = await CancellationScope.nonCancellable(() =>
    steps.delivery.promoteModel.executeWithOptions(
      { summary: `promote-model: ${gate.metric} against the current model of ${spec.name}` },
      [{ ...ctx, workflowId, gate, value, modelUri: delivered.modelUri }],
    ),
  );
  tracker.setPromotion(promotion);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.promoted, value: promotion.promoted }]);
  return promotion;
}

/** Every score the trainer reported; results of workers older than `metrics` carry their scores in `eval` only. */
export function scoresOf(trained: TrainResult): MetricScores | null {
  if (trained.metrics) return trained.metrics;
  return trained.eval ? metricsOfScores(trained.eval) : null;
}
