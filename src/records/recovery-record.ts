// One recovery from a node loss, as the run's progress, summary and run.json list it.

/** How the lost places were filled: a warm standby took them, new nodes were booted from the image, or none (shrink). */
export type RecoveryPath = 'standby' | 'replacement' | 'standby+replacement' | 'shrink' | 'grow';

/** The batch a shrunk run trains with on the nodes left. */
export interface ShrunkBatch {
  perDeviceBatchSize: number;
  gradientAccumulationSteps: number;
  globalBatch: number;
  wantedGlobalBatch: number;
  exact: boolean;
}

export interface RecoveryRecord {
  lostNodes: string[];
  /** ISO time the workflow learnt of the loss. */
  at: string;
  /** The last step training reported before the loss. */
  lastStep: number | null;
  /** Why the nodes were lost, as the node watch said (absent in runs recorded before it). */
  cause?: string;
  path?: RecoveryPath;
  /** The nodes that took the lost places (standbys by their own names, replacements by the lost names). */
  filledBy?: string[];
  /** After a shrink: the batch that keeps the global batch (or the nearest, `exact` false). */
  batch?: ShrunkBatch;
  /** Nodes booted for this recovery (replacements); standbys that took places are not counted here. */
  launched?: number;
  /** The training job that resumed (train-<n>). */
  job?: string;
  /** The checkpoint step the job resumed from, once it reported a step. */
  resumedStep?: number;
  /** Seconds from the loss to the first step the resumed job reported. */
  secondsToResume?: number;
  /** Steps trained again: the last step before the loss less the checkpoint resumed from. */
  stepsRepeated?: number;
}
