// The run summary's scaling efficiency: the blog's measure where each node has its own cores, and a reason
// instead of a number where the nodes share one machine (a local cluster once printed 689%).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus, formatSummary, scalingEfficiencyLine } from '../src/client/format';
import { validateRunSpec } from '../src/run-spec/validate';
import type { RunSummary } from '../src/workflows/definitions';
import { renderDetails } from '../src/workflows/run-details';
import { StepTracker } from '../src/workflows/step-tracker';

function summary(provider: 'aws' | 'local', efficiency: Partial<RunSummary['efficiency']>): RunSummary {
  return {
    workflowId: 'run-1',
    runName: 'run',
    provider,
    recipe: 'tiny-qa',
    steps: [{ name: 'distributed-train', seconds: 60 }],
    imageReused: false,
    nodesLaunched: 3,
    recoveries: 0,
    sanity: { steps: 10, stepsPerSecond: 1, samplesPerSecond: 8, firstLoss: 5, finalLoss: 4 },
    training: {
      globalStep: 30,
      worldSize: 3,
      firstLoss: 5,
      finalLoss: 3,
      evalLoss: null,
      samplesPerSecond: 165.4,
      stepsPerSecond: 2,
      runtimeSeconds: 15,
      lastCheckpoint: null,
      resumedStep: 0,
      epochs: null,
      eval: null,
    },
    teardown: { nodesTerminated: 3, nodesLeft: 0, kept: false, access: [] },
    efficiency: { scalingEfficiency: 6.89, secondsPerStep: 0.5, costUsd: 0, costPerEpochUsd: null, ...efficiency },
    artifacts: {
      uri: 'file:///lab/run/run-1/',
      model: 'file:///lab/run/run-1/model/',
      evaluation: null,
      runRecord: null,
      modelBytes: 1000,
      modelFiles: 4,
      uploadSeconds: 0.1,
    },
  };
}

describe('scaling efficiency in the run summary', () => {
  it('nodes with their own cores: the percentage and how it was computed', () => {
    const line = scalingEfficiencyLine(summary('aws', { scalingEfficiency: 0.87, nodesShareCpus: false }));
    assert.equal(line, 'Scaling efficiency:  87% (distributed samples/s / (3 x single-node samples/s))');
  });

  it('nodes that share this machine: no percentage, the reason instead', () => {
    const text = formatSummary(summary('local', { scalingEfficiency: 6.89, nodesShareCpus: true }));
    assert.match(text, /^Scaling efficiency: {2}n\/a \(local nodes share this machine's CPUs\)$/m);
    assert.doesNotMatch(text, /689%/);
  });

  it('the flag decides, not the provider name', () => {
    assert.match(scalingEfficiencyLine(summary('local', { nodesShareCpus: false })), /689%/);
    assert.match(scalingEfficiencyLine(summary('aws', { nodesShareCpus: true })), /n\/a \(local nodes share/);
  });

  it('a summary recorded before the flag existed: local nodes shared the machine, aws nodes did not', () => {
    assert.match(scalingEfficiencyLine(summary('local', {})), /n\/a \(local nodes share/);
    assert.match(scalingEfficiencyLine(summary('aws', { scalingEfficiency: 0.5 })), /50%/);
  });

  it('no single-node baseline: n/a even on dedicated cores', () => {
    assert.match(
      scalingEfficiencyLine(summary('aws', { scalingEfficiency: null, nodesShareCpus: false })),
      /^Scaling efficiency: {2}n\/a \(/,
    );
  });
});

describe('spot savings in the summary', () => {
  it('names what spot saved against the same lifetimes on-demand', () => {
    const line = formatSummary(summary('aws', { costUsd: 6.4, onDemandCostUsd: 17.46 }))
      .split('\n')
      .find((l) => l.startsWith('Estimated cost:'));
    assert.equal(line, 'Estimated cost:      $6.40; spot saved $11.06 (63%) against $17.46 on-demand');
  });

  it('says nothing of spot for an on-demand run, or a summary recorded before the figure existed', () => {
    for (const efficiency of [{ costUsd: 17.46, onDemandCostUsd: 17.46 }, { costUsd: 17.46 }]) {
      const text = formatSummary(summary('aws', efficiency));
      assert.ok(!text.includes('spot saved'), text);
      assert.ok(text.includes('Estimated cost:      $17.46'));
    }
  });

  it("names the instance types the spend meter had no price for, from the run's own spend", () => {
    const line = formatSummary(summary('aws', { costUsd: 2, unpricedTypes: ['x9.huge'] }))
      .split('\n')
      .find((l) => l.startsWith('Estimated cost:'));
    assert.equal(line, 'Estimated cost:      $2.00 (no price for x9.huge)');
  });
});

describe('the promotion gate in the run summary and details', () => {
  const promotion = {
    metric: 'f1' as const,
    value: 59,
    min: 50,
    current: { workflowId: 'run-0', value: 60 },
    promoted: false,
    reason: "f1 59.00 does not beat the current model's 60.00 (run-0)",
  };

  it('says whether the run was promoted and why: metric, threshold, current value', () => {
    const text = formatSummary({ ...summary('local', {}), promotion });
    assert.match(text, /^Promotion: {11}not promoted: f1 59\.00 does not beat the current model's 60\.00 \(run-0\)$/m);
    assert.doesNotMatch(formatSummary(summary('local', {})), /Promotion/, 'no line for a run without a gate');
  });

  it("puts the same line in the Web UI's current details", () => {
    const progress = new StepTracker(validSpec()).snapshot();
    assert.doesNotMatch(renderDetails(progress, undefined), /Promotion/);
    assert.match(
      renderDetails({ ...progress, promotion }, undefined),
      /\| Promotion \| not promoted: f1 59\.00 does not beat the current model's 60\.00 \(run-0\) \|/,
    );
  });
});

describe('bf16 kernels in the run summary and status', () => {
  const withBf16 = (requested: boolean, kernels: 'amx' | 'avx512_bf16' | 'none' | 'unknown') => {
    const base = summary('aws', {});
    return { ...base, sanity: { ...base.sanity, bf16: { requested, kernels } } };
  };

  it('the summary names the kernels the sanity run found, under the sanity run', () => {
    const lines = formatSummary(withBf16(true, 'amx')).split('\n');
    const at = lines.findIndex((l) => l.startsWith('Sanity run:'));
    assert.equal(lines[at + 1], 'bf16: AMX');
    assert.ok(formatSummary(withBf16(true, 'avx512_bf16')).split('\n').includes('bf16: AVX-512 BF16'));
  });

  it('bf16 asked for and emulated is a warning; a summary from before the probe has no line', () => {
    assert.match(formatSummary(withBf16(true, 'none')), /^warning: bf16 emulated: slow \(/m);
    assert.doesNotMatch(formatSummary(withBf16(false, 'none')), /warning/);
    assert.doesNotMatch(formatSummary(summary('aws', {})), /bf16/);
  });

  it('status shows it once the sanity run has probed', () => {
    const progress = new StepTracker(validSpec()).snapshot();
    assert.doesNotMatch(formatStatus({ workflowId: 'run-1', status: 'RUNNING', progress }), /bf16/);
    const probed = { ...progress, bf16: { requested: true, kernels: 'none' as const } };
    assert.match(formatStatus({ workflowId: 'run-1', status: 'RUNNING', progress: probed }), /^warning: bf16 emulated: slow/m);
  });
});

function validSpec() {
  const result = validateRunSpec({ name: 'run', provider: 'local', recipe: 'tiny-qa', training: { maxSteps: 1 } });
  assert.ok(result.ok);
  return result.spec;
}
