// A fake detached training job for workflow tests: each distributedTrain call is one follow window.
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { TrainingHandOver, TrainInput, TrainResult } from '../../src/activities/types';
import { emptyProgress } from '../../src/recipes/progress';
import { trainingProgressSignal } from '../../src/workflows/definitions';
import { FAKE_TRAIN_RESULT } from './fake-activities';

export interface WindowShape {
  stepsPerWindow: number;
  signalsPerWindow: number;
}

export interface FakeJob {
  step: number;
  starts: number;
  /** Follow windows whose hand-over did not carry what the previous follower knew. */
  lostHandOvers: number;
  windows: number;
}

/**
 * A training job detached from its follower: every call (one follow window) re-attaches to it by job id,
 * sends `signalsPerWindow` progress reports over `stepsPerWindow` steps, and returns with the job still running until it is done.
 */
export function fakeTraining(client: Client, totalSteps: number, { stepsPerWindow, signalsPerWindow }: WindowShape) {
  const jobs = new Map<string, FakeJob>();
  const distributedTrain = async (input: TrainInput): Promise<TrainResult | TrainingHandOver> => {
    assert.ok(input.followForSeconds !== undefined && input.followForSeconds > 0, 'the workflow follows in windows');
    let job = jobs.get(input.jobId);
    if (!job) {
      job = { step: 0, starts: 0, lostHandOvers: 0, windows: 0 };
      job.starts++;
      jobs.set(input.jobId, job);
    }
    if (job.step > 0 && input.handedOver?.step !== job.step) job.lostHandOvers++;
    job.windows++;
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const handle = client.workflow.getHandle(workflowId);
    const stepsLeft = Math.min(stepsPerWindow, totalSteps - job.step);
    for (let i = 1; i <= signalsPerWindow; i++) {
      const step = job.step + Math.round((stepsLeft * i) / signalsPerWindow);
      await handle.signal(trainingProgressSignal, {
        stage: 'distributed-train',
        step,
        maxSteps: totalSteps,
        loss: 5 - step / totalSteps,
        lastCheckpoint: null,
      });
    }
    job.step += stepsLeft;
    if (job.step >= totalSteps) return { ...FAKE_TRAIN_RESULT, globalStep: totalSteps };
    return { stillRunning: true, progress: { ...emptyProgress(input.jobId), step: job.step, maxSteps: totalSteps } };
  };
  return { jobs, distributedTrain };
}
