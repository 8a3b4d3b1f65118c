// run.json: what a run trained, on what, how it scored and what it cost, written next to the model
// by the run that ends a chain, whatever the outcome.
import { isCancellation, log, workflowInfo } from '@temporalio/workflow';
import type { DeliveredModel } from '../activities/artifacts';
import type { RunContext, TeardownResult } from '../activities/types';
import type { ModelCardInput } from '../artifacts/model-card';
import type { RunRecord } from '../records/run-record';
import { runInputs } from '../run-spec/expand-inputs';
import { withRedactedNotify } from '../run-spec/notify';
import { trainerValueRows, trainerValues } from '../run-spec/trainer-values';
import { summarizeFailure } from '../common/failure-summary';
import type { RunProgress, RunSummary } from './definitions';
import { scoresOf } from './promotion';
import { inputsRecord } from './run-inputs';
import { steps } from './steps';
import type { RunCap } from './train-with-recovery';

export type RunOutcome = Omit<RunSummary, 'teardown' | 'steps' | 'efficiency' | 'artifacts'> & {
  fingerprint: string;
  delivered: DeliveredModel;
  cappedBy?: RunCap;
  nodesShareCpus: boolean;
};

export interface RunRecordInput {
  startedAt: string;
  outcome: RunOutcome | undefined;
  teardown: TeardownResult | undefined;
  failure: unknown;
  progress: RunProgress;
  /** Every node the run launched, at the spec's prices (replacements included). */
  costUsd: number;
}

/** Writes run.json next to the model, whatever the outcome; a run that never got a store has nowhere to write. */
export async function recordRun(ctx: RunContext, input: RunRecordInput): Promise<string | null> {
  if (!ctx.artifacts) return null;
  const { outcome, teardown, failure, progress } = input;
  const t = outcome?.training;
  const record: RunRecord = {
    workflowId: workflowInfo().workflowId,
    runName: ctx.spec.name,
    outcome: failure === undefined ? 'succeeded' : isCancellation(failure) ? 'cancelled' : 'failed',
    error: failure === undefined ? null : summarizeFailure(failure),
    startedAt: input.startedAt,
    endedAt: new Date(Date.now()).toISOString(),
    spec: withRedactedNotify(ctx.spec),
    recipeFingerprint: outcome?.fingerprint ?? null,
    packages: outcome?.delivered.packages ?? null,
    ...inputsRecord(ctx),
    modelUri: outcome?.delivered.modelUri ?? null,
    evaluation: outcome?.delivered.evaluationUri ?? null,
    throughput: t
      ? {
          sanitySamplesPerSecond: outcome.sanity.samplesPerSecond,
          samplesPerSecond: t.samplesPerSecond,
          stepsPerSecond: t.stepsPerSecond,
        }
      : null,
    training: t ?? null,
    bf16: progress.bf16 ?? outcome?.sanity.bf16 ?? null,
    metrics: t ? scoresOf(t) : null,
    promotion: outcome?.promotion ?? null,
    lossCurve: outcome?.delivered.lossCurve ?? [],
    steps: progress.steps,
    nodes: progress.nodes,
    nodesLaunched: outcome?.nodesLaunched ?? null,
    recoveries: progress.recoveries,
    costUsd: input.costUsd,
    nodesLeft: teardown?.nodesLeft ?? null,
  };
  const card = outcome ? modelCard(ctx, record, input.costUsd) : null;
  try {
    return await steps.provisioning.recordRun.executeWithOptions({ summary: 'record-run: write run.json and the model card' }, [
      { ...ctx, record, card },
    ]);
  } catch (err) {
    // The model is delivered either way; a missing record must not turn a good run into a failure.
    log.error('could not write run.json', { error: String(err) });
    return null;
  }
}

/** What the delivered model's README.md says: run.json's inputs, scores and cost, and the trainer's resolved values. */
function modelCard(
  ctx: RunContext,
  record: RunRecord,
  costUsd: number,
): ModelCardInput {
  const { preset, task, model, data } = runInputs(ctx.spec);
  const { train, validation } = data;
  return {
    runName: ctx.spec.name,
    workflowId: record.workflowId,
    task,
    preset: preset ?? null,
    model: { ...record.model, ...(model.kind === 'hub' ? { hubId: model.id } : {}) },
    data: record.data,
    ...(train.kind === 'hub' && validation.kind === 'hub'
      ? {
          hubDataset: {
            id: train.id,
            validationSplit: validation.split,
            ...(train.config ? { config: train.config } : {}),
            ...(train.revision ? { revision: train.revision } : {}),
          },
        }
      : {}),
    scores: record.metrics,
    hyperparameters: trainerValueRows(trainerValues(ctx.spec)),
    costUsd,
    endedAt: record.endedAt,
  };
}
