// The run summary's figures computed from what the run recorded: nodes launched, and efficiency and cost.
import type { RunSpec } from '../run-spec/schema';
import type { RunEfficiency } from './definitions';
import type { RunOutcome } from './run-record';
import type { StepTracker } from './step-tracker';

/** The cluster as launched, its standbys (first ones and refills), and every node booted by a recovery. */
export function nodesLaunched(spec: RunSpec, tracker: StepTracker, standbys: number): number {
  return spec.nodes + standbys + tracker.snapshot().recoveries.reduce((sum, r) => sum + (r.launched ?? r.lostNodes.length), 0);
}

export function efficiency(outcome: RunOutcome, costUsd: number, onDemandCostUsd: number): RunEfficiency {
  const t = outcome.training;
  const single = outcome.sanity.samplesPerSecond;
  const stepsRun = t.globalStep - t.resumedStep;
  return {
    scalingEfficiency: single > 0 ? t.samplesPerSecond / (outcome.nodesLaunched * single) : null,
    nodesShareCpus: outcome.nodesShareCpus,
    secondsPerStep: stepsRun > 0 ? t.runtimeSeconds / stepsRun : null,
    costUsd,
    costPerEpochUsd: t.epochs !== null && t.epochs > 0 ? costUsd / t.epochs : null,
    onDemandCostUsd,
  };
}
