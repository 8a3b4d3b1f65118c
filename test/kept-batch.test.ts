// The batch a shrunk run trains with: the global batch kept exactly when a per-rank batch no bigger than the
// written one allows it, else the nearest, stated as such.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keptBatch, ranksPerNodeOf } from '../src/run-spec/kept-batch';

describe('kept batch', () => {
  it('keeps the global batch with more accumulation where it divides', () => {
    assert.deepEqual(keptBatch({ perDeviceBatchSize: 8, gradientAccumulationSteps: 1 }, 2, 1, 4), {
      perDeviceBatchSize: 8,
      gradientAccumulationSteps: 2,
      globalBatch: 64,
      wantedGlobalBatch: 64,
      exact: true,
    });
  });

  it('takes a smaller per-rank batch when the accumulation alone cannot be exact (3 nodes -> 2)', () => {
    const kept = keptBatch({ perDeviceBatchSize: 8, gradientAccumulationSteps: 1 }, 3, 2, 1);
    assert.deepEqual([kept.perDeviceBatchSize, kept.gradientAccumulationSteps, kept.globalBatch, kept.exact], [6, 2, 24, true]);
  });

  it('every exact answer has the written global batch and a per-rank batch no bigger than written', () => {
    for (let written = 1; written <= 8; written++) {
      for (let nodes = 1; nodes < written; nodes++) {
        for (const [perDevice, accumulation] of [[8, 1], [5, 3], [16, 2], [1, 1]] as const) {
          const k = keptBatch({ perDeviceBatchSize: perDevice, gradientAccumulationSteps: accumulation }, written, nodes, 2);
          assert.ok(k.perDeviceBatchSize <= perDevice && k.perDeviceBatchSize >= 1 && k.gradientAccumulationSteps >= 1);
          assert.equal(k.globalBatch, k.perDeviceBatchSize * k.gradientAccumulationSteps * nodes * 2);
          if (k.exact) assert.equal(k.globalBatch, perDevice * accumulation * written * 2);
        }
      }
    }
  });

  it('the nearest when none is exact: 1 per rank on 3 nodes from 2 nodes x 1 x 1', () => {
    const k = keptBatch({ perDeviceBatchSize: 1, gradientAccumulationSteps: 1 }, 2, 3, 1);
    assert.deepEqual([k.globalBatch, k.wantedGlobalBatch, k.exact], [3, 2, false]);
  });

  it('ranks per node: the written number, else 1 where nodes share CPUs, else the CPU layout', () => {
    assert.equal(ranksPerNodeOf(4, true, 2), 4);
    assert.equal(ranksPerNodeOf('auto', true, 2), 1);
    assert.equal(ranksPerNodeOf('auto', false, 2), 2);
  });
});
