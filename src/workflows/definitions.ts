// The run workflow's query, signal and result records; imported by the client too.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ProgressUpdate } from '../activities/deps';
import type {
  EvalScores,
  HubModel,
  ImageRecord,
  NodeRecord,
  ProvisionResult,
  RunContext,
  SanityResult,
  TeardownResult,
  TrainResult,
} from '../activities/types';
import type { Bf16Record } from '../common/bf16';
import type { PromotionRecord } from '../common/promotion';
import type { TrainingProgress } from '../recipes/progress';
import type { MeteredNode } from './spend';
import { PROGRESS_QUERY, TRAINING_PROGRESS_SIGNAL, type StepName } from '../common/names';
import type { RecoveryRecord } from '../records/recovery-record';
import type { KeptBatch } from '../run-spec/kept-batch';
import type { RunSpecInput } from '../run-spec/schema';

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
  /** What the run trains, in words (runTitle): the preset's name, or the task and model of a run without one. */
  recipe: string;
  stage: StepName | 'starting' | 'completed' | 'failed';
  steps: StepProgress[];
  nodes: NodeProgress[];
  training: ProgressUpdate | null;
  /** How to log in to the nodes of a cluster kept after a failure (keepClusterOnFailure). */
  keptAccess?: string[];
  /** Node losses the run recovered from, each with the path it took and what it cost. */
  recoveries: RecoveryRecord[];
  /** The run's folder in the artifact store, and the model's once delivered. */
  artifacts?: { uri: string; model?: string };
  /** Absent in runs started before scores existed. */
  evaluation?: EvaluationProgress;
  /** Estimated spend so far (node lifetimes x prices), updated at each step and follow window. */
  spend?: { usd: number; budgetUsd: number | null };
  /** What the promotion gate decided, once it has (runs with `promote` only). */
  promotion?: PromotionRecord;
  /** The kernels bf16 really ran on, once the sanity run has probed them. */
  bf16?: Bf16Record;
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
  /** What the run trains, in words (runTitle): the preset's name, or the task and model of a run without one. */
  recipe: string;
  /** A hub model: the revision asked for and the commit the master downloaded (also in run.json). */
  hubModel?: HubModel;
  steps: Array<{ name: StepName; seconds: number; note?: string }>;
  imageReused: boolean;
  /** Nodes ever launched, replacements included. */
  nodesLaunched: number;
  recoveries: number;
  /** Each recovery: cause, path (standby or replacement), seconds to the first resumed step, steps repeated. */
  recoveryLog?: RecoveryRecord[];
  sanity: SanityResult;
  training: TrainResult;
  teardown: TeardownResult;
  efficiency: RunEfficiency;
  artifacts: RunArtifacts;
  /** The promotion gate's decision; absent when the spec has no `promote`. */
  promotion?: PromotionRecord;
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
  /**
   * The cluster's nodes share one machine's CPUs (local provider): the single-node baseline then had every core
   * to itself, so scalingEfficiency measures nothing and is not shown. Absent in summaries recorded before it.
   */
  nodesShareCpus?: boolean;
  secondsPerStep: number | null;
  /** Every node the run launched (replacements included), from launch to termination, at the spec's prices. */
  costUsd: number;
  costPerEpochUsd: number | null;
  /** The same node lifetimes at on-demand prices: what spot saved. Absent in summaries recorded before it. */
  onDemandCostUsd?: number;
  /** Instance types without a price in the table or the spec: their nodes count $0 in costUsd. */
  unpricedTypes?: string[];
}

export interface FineTuneInput {
  /** The spec as written; the workflow validates it again before anything is launched. */
  spec: RunSpecInput;
  /** When the run continues as new; the defaults suit production, tests set small values. */
  history?: Partial<HistoryLimits>;
  /** Set only by the run itself when it continues as new mid-training: where the previous run left off. */
  handover?: RunHandover;
}

export interface HistoryLimits {
  /** Continue as new once the history holds this many events (or when Temporal suggests it). */
  eventBudget: number;
  /** distributed-train returns this often with the job still running, so the workflow can look at its history. */
  followWindowSeconds: number;
}

/** The training step's own state, carried from run to run of a continue-as-new chain. */
export interface TrainingState {
  nodes: NodeRecord[];
  /** Warm standby nodes: booted, data staged, idle (absent in runs started before standbys existed). */
  standby?: NodeRecord[];
  /** Standby nodes launched so far, including used ones: the next is standby-<launched + 1>. */
  standbyLaunched?: number;
  /** Places a shrink left empty, by the names their nodes are launched under when capacity returns. */
  missing?: string[];
  /** Nodes launched for those places, waiting for the running job to save and stop so they can join. */
  grown?: NodeRecord[];
  /** How many times the run grew back (each starts a new job, so it counts in `recoveries` too). */
  grows?: number;
  /** Set once the run shrank: the batch shape its jobs train with on the nodes left (the global batch kept). */
  batch?: KeptBatch;
  /** Recoveries so far; the current job is `train-<recoveries>`. */
  recoveries: number;
  /** What the last follower knew of the current job, when it handed the job over. */
  handedOver: TrainingProgress | null;
  /** ISO time by which training must end (training.timeoutMinutes after it began, across the chain). */
  deadline: string;
}

/** Everything a run needs to go on training where the previous run of its chain stopped. */
export interface RunHandover {
  ctx: RunContext;
  startedAt: string;
  progress: RunProgress;
  provisioned: ProvisionResult;
  image: ImageRecord;
  sanity: SanityResult;
  training: TrainingState;
  /** How many runs handed over before this one. */
  handovers: number;
  /** Every node the run launched so far, for its spend. */
  billed: MeteredNode[];
}

export const progressQuery = defineQuery<RunProgress>(PROGRESS_QUERY);
export const trainingProgressSignal = defineSignal<[ProgressUpdate]>(TRAINING_PROGRESS_SIGNAL);
