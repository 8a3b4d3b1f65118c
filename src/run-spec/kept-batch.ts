// The per-rank batch and gradient accumulation that keep a run's global batch when it trains on fewer
// (or again on all) nodes. Pure: the workflow chooses them at a shrink, the plan and tests read them.

export interface BatchShape {
  perDeviceBatchSize: number;
  gradientAccumulationSteps: number;
}

export interface KeptBatch extends BatchShape {
  /** Examples per optimizer step on the new node count (ranks per node x nodes x batch x accumulation). */
  globalBatch: number;
  /** The run's global batch as written. */
  wantedGlobalBatch: number;
  exact: boolean;
}

/**
 * For `nodes` nodes of `ranksPerNode` ranks each: the largest per-rank batch no bigger than the written one
 * whose accumulation makes the global batch exact; when none does, the written batch with the accumulation
 * that comes nearest.
 */
export function keptBatch(written: BatchShape, writtenNodes: number, nodes: number, ranksPerNode: number): KeptBatch {
  const perNodeRank = written.perDeviceBatchSize * written.gradientAccumulationSteps * writtenNodes;
  const wantedGlobalBatch = perNodeRank * ranksPerNode;
  for (let perDevice = written.perDeviceBatchSize; perDevice >= 1; perDevice--) {
    if (perNodeRank % (perDevice * nodes) === 0) {
      const gradientAccumulationSteps = perNodeRank / (perDevice * nodes);
      return { perDeviceBatchSize: perDevice, gradientAccumulationSteps, globalBatch: wantedGlobalBatch, wantedGlobalBatch, exact: true };
    }
  }
  const perDeviceBatchSize = written.perDeviceBatchSize;
  const gradientAccumulationSteps = Math.max(1, Math.round(perNodeRank / (perDeviceBatchSize * nodes)));
  return {
    perDeviceBatchSize,
    gradientAccumulationSteps,
    globalBatch: perDeviceBatchSize * gradientAccumulationSteps * nodes * ranksPerNode,
    wantedGlobalBatch,
    exact: false,
  };
}

/** Ranks each node runs: the spec's number, or on auto one per node that shares its host's CPUs, else the CPU's own count. */
export function ranksPerNodeOf(setting: number | 'auto', nodesShareCpus: boolean, cpuRanksPerNode: number): number {
  if (setting !== 'auto') return setting;
  return nodesShareCpus ? 1 : cpuRanksPerNode;
}
