// Inputs and results of the step activities: JSON-plain records that cross Temporal payloads.
import type { CpuTopology } from '../cluster/topology';
import type { Bf16Record } from '../common/bf16';
import type { CheckedInputs } from '../data/check-inputs';
import type { TrainingProgress } from '../recipes/progress';
import type { ClusterInfo, ImageRecord, NodeRecord } from '../providers/provider';
import type { RunSpec } from '../run-spec/schema';

export interface RunContext {
  /** The workflow id; every resource of the run is tagged with it. */
  clusterId: string;
  spec: RunSpec;
  /** The run's folder in the artifact store (`.../<run name>/<workflow id>/`), once prepare-artifacts checked it. */
  artifacts?: string;
  /** The data files and model as check-inputs read and hashed them; what stage-inputs puts on the nodes. */
  inputs?: CheckedInputs;
  /** A hub model as the master downloaded it (fetch-hub-model): what every node gets from the master. */
  hubModel?: HubModel;
  /** A hub dataset as the master downloaded it (fetch-hub-data): every node gets it from the master. */
  hubData?: HubModel;
}

/** A hub repo's revision as asked for and the commit it resolved to. */
export interface HubRevision {
  id: string;
  revision: string;
  commit: string;
}

/** A hub repo (model or dataset) resolved and downloaded once on the master: the revision asked for and the commit it was. */
export interface HubModel extends HubRevision {
  files: number;
  bytes: number;
}

/** The master's CPU layout from lscpu; workers come from its image on the same instance type. */
export type CpuInfo = CpuTopology;

export interface ProvisionResult {
  cluster: ClusterInfo;
  master: NodeRecord;
  fingerprint: string;
  /** The master came from an image baked by an earlier run with the same recipe fingerprint. */
  imageReused: boolean;
  cpu: CpuInfo;
}

export interface InstallResult {
  fingerprint: string;
  skipped: boolean;
}

export interface WireResult {
  hosts: string[];
}

export interface SanityResult {
  steps: number;
  stepsPerSecond: number;
  /** After the first step (warm-up excluded), so it compares with the distributed run's. */
  samplesPerSecond: number;
  firstLoss: number | null;
  finalLoss: number | null;
  /** The kernels bf16 really ran on (the master's probe); absent in runs recorded before it. */
  bf16?: Bf16Record;
}

export interface TrainInput extends RunContext {
  cluster: ClusterInfo;
  nodes: NodeRecord[];
  cpu: CpuInfo;
  /** One job per training attempt group; a retried activity re-attaches to it. */
  jobId: string;
  /** Follow the job at most this long, then return a hand-over with the job still running; default: to its end. */
  followForSeconds?: number;
  /** The previous follower's progress when it handed this job over. */
  handedOver?: TrainingProgress | null;
  /** ISO time at which the ranks are told to finish early (the run's spend or time cap). */
  finishBy?: string;
  /** Every rank saves at its next step and stops: the run grows back to more nodes from that checkpoint. */
  saveAndStop?: boolean;
}

/** distributed-train's answer when it was told to save and stop and the job did, short of its last step. */
export interface TrainingStopped {
  stopped: true;
  progress: TrainingProgress;
}

/** distributed-train's answer when its follow window ended first: the job trains on, to be re-attached. */
export interface TrainingHandOver {
  stillRunning: true;
  progress: TrainingProgress;
}

export type { ClassificationScores, EvalScores, QaScores } from '../records/scores';
export type { TrainResult } from '../records/train-result';

export interface TeardownResult {
  nodesTerminated: number;
  nodesLeft: number;
  kept: boolean;
  /** When the cluster was kept: one "ssh ..." line per node. */
  access: string[];
}

export type { ClusterInfo, ImageRecord, NodeRecord };
