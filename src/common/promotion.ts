// The promotion gate's decision and the records it reads and writes: the name's current pointer
// (`<store>/<run name>/current.json`) and run.json's `promotion`. Pure: the workflow and the CLI use it too.
import type { PromotionDecision } from '../records/run-record';
import type { RunMetrics } from '../records/scores';
import { PROMOTION_METRICS, type PromoteSettings, type PromotionMetric } from '../run-spec/promote';

export const CURRENT_POINTER_KEY = 'current.json';

export interface CurrentPointer {
  workflowId: string;
  /** URI of the model folder, ending in `/`. */
  model: string;
  metric: PromotionMetric;
  value: number;
  /** ISO time. */
  promotedAt: string;
}

/** What the gate decided, as run.json's `promotion` holds it (the record lives with run.json's other records). */
export type PromotionRecord = PromotionDecision;

/** The current model as the gate compares against it. */
export interface CurrentModel {
  workflowId: string;
  value: number | null;
}

/** Scores under run.json's names (snake_case, as the spec's metric field); absent when a task does not produce one. */
export type MetricScores = RunMetrics;

export function metricValue(scores: MetricScores | null, metric: PromotionMetric): number | null {
  const value = scores?.[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Promote when the score reaches `min` and, with beatCurrent, is strictly above the current model's (a tie
 * keeps the model already serving). The run that is already current stays promoted: an activity retry
 * after its pointer was written decides the same.
 */
export function decidePromotion(
  gate: PromoteSettings,
  value: number | null,
  current: CurrentModel | undefined,
  workflowId: string,
): PromotionRecord {
  const base = { metric: gate.metric, value, min: gate.min, ...(current ? { current } : {}) };
  const decided = (promoted: boolean, reason: string): PromotionRecord => ({ ...base, promoted, reason });
  const { metric, min } = gate;
  if (current?.workflowId === workflowId) return decided(true, 'this run is the current model');
  if (value === null) return decided(false, `the run has no ${metric} score`);
  if (value < min) return decided(false, `${metric} ${fmt(value)} is below the minimum ${fmt(min)}`);
  if (!gate.beatCurrent || !current) {
    const why = current ? 'beatCurrent is off' : 'no model is current yet';
    return decided(true, `${metric} ${fmt(value)} reaches the minimum ${fmt(min)}; ${why}`);
  }
  if (current.value === null)
    return decided(false, `the current model (${current.workflowId}) has no ${metric} score to compare with`);
  if (value <= current.value)
    return decided(
      false,
      `${metric} ${fmt(value)} does not beat the current model's ${fmt(current.value)} (${current.workflowId})`,
    );
  return decided(
    true,
    `${metric} ${fmt(value)} reaches the minimum ${fmt(min)} and beats the current model's ${fmt(current.value)} (${current.workflowId})`,
  );
}

/** A pointer read from the store, checked field by field; undefined when it is not one. */
export function parseCurrentPointer(value: unknown): CurrentPointer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok =
    typeof v.workflowId === 'string' &&
    typeof v.model === 'string' &&
    typeof v.metric === 'string' &&
    (PROMOTION_METRICS as readonly string[]).includes(v.metric) &&
    typeof v.value === 'number' &&
    typeof v.promotedAt === 'string';
  return ok ? (value as CurrentPointer) : undefined;
}

/** One line for summaries: what the gate decided and why. */
export function promotionLine(promotion: PromotionRecord): string {
  return `${promotion.promoted ? 'promoted' : 'not promoted'}: ${promotion.reason}`;
}

function fmt(n: number): string {
  return n.toFixed(2);
}
