// Each recovery as people read it: its cause, path, steps repeated and seconds to the resumed job, in the
// Web UI's details, `tuneforge status` and the summary, from a real StepTracker fed as the workflow feeds it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus } from '../src/client/format';
import { recoveryLine } from '../src/common/recovery-text';
import { validateRunSpec } from '../src/run-spec/validate';
import { renderDetails } from '../src/workflows/run-details';
import { StepTracker } from '../src/workflows/step-tracker';

function tracker(): StepTracker {
  const checked = validateRunSpec({ name: 'paths', provider: 'local', recipe: 'tiny-qa', nodes: 3, training: { maxSteps: 300 } });
  assert.ok(checked.ok);
  return new StepTracker(checked.spec);
}

describe('recoveries in words', () => {
  it('a standby path: lost at a step, the standby named, resumed from the checkpoint with the seconds it took', () => {
    const t = tracker();
    t.setTraining({ stage: 'distributed-train', step: 40, maxSteps: 300, loss: 1, lastCheckpoint: null, jobId: 'train-0', resumedStep: 0 });
    t.recordRecovery(['worker-1'], 'gone, stopped or not answering SSH during distributed-train', 'train-1', 47);
    t.recoveryPath('standby', ['standby-1'], 0);
    // The resumed job's start line (no step trained yet) does not count as resumed; its first step does.
    t.setTraining({ stage: 'distributed-train', step: 40, maxSteps: 300, loss: null, lastCheckpoint: null, jobId: 'train-1', resumedStep: 40 });
    assert.equal(t.snapshot().recoveries[0]?.secondsToResume, undefined);
    t.setTraining({ stage: 'distributed-train', step: 41, maxSteps: 300, loss: 1, lastCheckpoint: null, jobId: 'train-1', resumedStep: 40 });
    const [r] = t.snapshot().recoveries;
    assert.ok(r && r.secondsToResume !== undefined && r.secondsToResume >= 0);
    assert.equal(r.stepsRepeated, 7);
    const line = recoveryLine(r);
    assert.match(line, /^worker-1 lost at step 47 \(gone, stopped or not answering SSH during distributed-train\): standby standby-1 took the place; resumed from step 40 after \d+\.\d s, 7 steps repeated$/);
    assert.ok(renderDetails(t.snapshot(), undefined).includes(`| Recovery 1 | ${line} |`));
    assert.ok(formatStatus({ workflowId: 'w', status: 'RUNNING', progress: t.snapshot() }).includes(`recovery 1: ${line}`));
  });

  it('a shrink names the batch that keeps the global batch, or the nearest one', () => {
    const t = tracker();
    t.recordRecovery(['worker-2'], 'gone', 'train-1', 44);
    t.recoveryPath('shrink', [], 0, { perDeviceBatchSize: 6, gradientAccumulationSteps: 2, globalBatch: 24, wantedGlobalBatch: 24, exact: true });
    assert.match(recoveryLine(t.snapshot().recoveries[0]!), /no capacity, training went on without it, 6 per rank x 2 accumulation: global batch 24 as before/);
    t.recordRecovery(['worker-1'], 'gone', 'train-2', 90);
    t.recoveryPath('shrink', [], 0, { perDeviceBatchSize: 8, gradientAccumulationSteps: 3, globalBatch: 24, wantedGlobalBatch: 25, exact: false });
    assert.match(recoveryLine(t.snapshot().recoveries[1]!), /global batch 24 \(nearest to 25\)/);
  });

  it('growing back names the nodes that joined, not a loss', () => {
    const t = tracker();
    t.recordRecovery([], 'capacity came back', 'train-2', 197);
    t.recoveryPath('grow', ['worker-2'], 1);
    assert.equal(recoveryLine(t.snapshot().recoveries[0]!), 'capacity came back: worker-2 joined at step 197');
  });
});
