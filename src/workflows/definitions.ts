// The run workflow's query, signal and result records; imported by the client too.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ProgressUpdate } from '../activities/deps';
import type { EvalScores, SanityResult, TeardownResult, TrainResult } from '../activities/types';
import { PROGRESS_QUERY, TRAINING_PROGRESS_SIGNAL, type StepName } from '../common/names';
import type { RunSpecInput } from '../spec/schema';

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface StepProgress {
  name: StepName;
  status: StepStatus;
  /** ISO timestamps (workflow time). */
  startedAt?: string;
  endedAt?: string;
  seconds?: number;
  note?: string;
}

export interface NodeProgress {
  name: string;
  role: string;
  address: string;
  state: string;
}

export interface RunProgress {
  runName: string;
  provider: string;
  recipe: string;
  stage: StepName | 'starting' | 'completed' | 'failed';
  steps: StepProgress[];
  nodes: NodeProgress[];
  training: ProgressUpdate | null;
  /** How to log in to the nodes of a cluster kept after a failure (keepClusterOnFailure). */
  keptAccess?: string[];
  /** Node losses the run recovered from. */
  recoveries: Array<{ lostNodes: string[]; at: string; lastStep: number | null }>;
  /** The run's folder in the artifact store, and the model's once delivered. */
  artifacts?: { uri: string; model?: string };
  /** Absent in runs started before scores existed. */
  evaluation?: EvaluationProgress;
  error?: string;
}

export interface EvaluationProgress {
  /** The spec's training.evaluate. */
  enabled: boolean;
  /** Set when training returns; null before, and when evaluation is off. */
  scores: EvalScores | null;
}

export interface RunSummary {
  workflowId: string;
  runName: string;
  provider: string;
  recipe: string;
  steps: Array<{ name: StepName; seconds: number; note?: string }>;
  imageReused: boolean;
  /** Nodes ever launched, replacements included. */
  nodesLaunched: number;
  recoveries: number;
  sanity: SanityResult;
  training: TrainResult;
  teardown: TeardownResult;
  efficiency: RunEfficiency;
  artifacts: RunArtifacts;
}

export interface RunArtifacts {
  /** The run's folder: `<store>/<run name>/<workflow id>/`. */
  uri: string;
  /** `<uri>model/`: loadable with from_pretrained. */
  model: string;
  evaluation: string | null;
  /** `<uri>run.json`, or null when it could not be written. */
  runRecord: string | null;
  modelBytes: number;
  modelFiles: number;
  uploadSeconds: number;
}

export interface RunEfficiency {
  /** Distributed throughput / (nodes x single-node sanity throughput), as the blog computed by hand. */
  scalingEfficiency: number | null;
  secondsPerStep: number | null;
  costUsd: number;
  costPerEpochUsd: number | null;
}

export interface FineTuneInput {
  /** The spec as written; the workflow validates it again before anything is launched. */
  spec: RunSpecInput;
}

export const progressQuery = defineQuery<RunProgress>(PROGRESS_QUERY);
export const trainingProgressSignal = defineSignal<[ProgressUpdate]>(TRAINING_PROGRESS_SIGNAL);
