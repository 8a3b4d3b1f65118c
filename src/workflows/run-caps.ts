// The run's caps: budgetUsd checked before each step, and the failures a run ends with when a cap
// (spend or training.timeoutMinutes) stopped it, after its model was delivered.
import { ApplicationFailure } from '@temporalio/workflow';
import type { DeliveredModel } from '../activities/artifacts';
import type { TrainResult } from '../activities/types';
import { FailureType } from '../common/errors';
import type { SpendMeter } from './spend';
import type { StepTracker } from './step-tracker';
import type { RunCap } from './train-with-recovery';

/** Before each step: the spend so far, and the end of the run if it reached the budget (nothing trained yet). */
export function checkBudget(spend: SpendMeter, tracker: StepTracker, next: string): void {
  const usd = spend.costUsd();
  tracker.setSpend(usd, spend.budgetUsd);
  if (spend.budgetUsd === undefined || usd < spend.budgetUsd) return;
  throw ApplicationFailure.create({
    type: FailureType.BudgetExceeded,
    message: `the estimated spend ($${usd.toFixed(2)}) reached budgetUsd ($${spend.budgetUsd?.toFixed(2)}) before ${next}; no model was trained`,
    details: [{ cap: 'budget', spentUsd: usd, budgetUsd: spend.budgetUsd, before: next }],
    nonRetryable: true,
  });
}

export interface CappedRun {
  cappedBy: RunCap;
  training: TrainResult;
  delivered: DeliveredModel;
}

/** The end of a run stopped by a cap after its model was delivered. */
export function capReached(outcome: CappedRun, spend: SpendMeter): ApplicationFailure {
  const { training: t, delivered } = outcome;
  const usd = spend.costUsd();
  const where = `every rank saved at step ${t.globalStep} and the model trained so far is in ${delivered.modelUri}`;
  const message =
    outcome.cappedBy === 'budget'
      ? `the estimated spend reached budgetUsd ($${spend.budgetUsd?.toFixed(2)}; spent $${usd.toFixed(2)}): ${where}`
      : `training reached training.timeoutMinutes: ${where}`;
  return ApplicationFailure.create({
    type: outcome.cappedBy === 'budget' ? FailureType.BudgetExceeded : FailureType.TrainingTimedOut,
    message,
    details: [
      { cap: outcome.cappedBy, step: t.globalStep, model: delivered.modelUri, spentUsd: usd, budgetUsd: spend.budgetUsd ?? null },
    ],
    nonRetryable: true,
  });
}

export function isCapFailure(err: unknown): boolean {
  return (
    err instanceof ApplicationFailure && (err.type === FailureType.BudgetExceeded || err.type === FailureType.TrainingTimedOut)
  );
}
