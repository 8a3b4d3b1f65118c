// The real-model row: a real pretrained model's training throughput in the sanity run of a whole run
// (Temporal, a detached job, heartbeats, the node watch) ÷ the same trainer command run directly with the
// node's python over one SSH session on a node launched from the same image, with the same staged inputs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { createS3Client } from '../../src/artifacts/s3-client';
import { bootWaitFor } from '../../src/cluster/boot-times';
import { LSCPU_COMMAND, parseLscpu } from '../../src/cluster/topology';
import { checkInputs } from '../../src/data/check-inputs';
import { stageInputs, type StageSources } from '../../src/data/stage-inputs';
import { bindRun } from '../../src/providers/run-provider';
import { sanityCommand } from '../../src/recipes/launch-command';
import { recipeFingerprint } from '../../src/recipes/recipe-bundle';
import { recipeFor } from '../../src/recipes/recipe';
import { sshTarget } from '../../src/remote/remote-shell';
import type { RunSpecInput } from '../../src/run-spec/schema';
import { ROOT, log, median, normalized, uniqueId } from './common';
import type { BenchLab } from './lab';
import { foreground } from './plain-run';
import { temporalRun } from './temporal';

const RECIPE_PYTHON = join(ROOT, '.tools/recipe-venv/bin/python');
const MAKE_DATA = join(ROOT, 'recipes/tests/real_model/make_data.py');
/** Sanity steps per sample: enough steady steps (the first ones warm up) for a stable rate. */
const SANITY_STEPS = 30;
const SAMPLES = 2;

export interface RealModelResult {
  orchestrated: number[];
  direct: number[];
  /** Median samples/s in the whole run's sanity run ÷ median samples/s run directly. */
  ratio: number;
}

/** all-MiniLM-L6-v2 on the real-model test's topic CSV, task defaults (learning rate 2e-5, sequence 128). */
function realModelSpec(): RunSpecInput {
  const data = mkdtempSync(join(tmpdir(), 'bench-real-model-'));
  execFileSync(RECIPE_PYTHON, [MAKE_DATA, 'cls', data]);
  const model = execFileSync(RECIPE_PYTHON, [MAKE_DATA, 'model-path'], { encoding: 'utf8' }).trim();
  return {
    name: 'bench-real-model',
    provider: 'local',
    task: 'text-classification',
    model: { path: model },
    data: { train: join(data, 'train.csv'), validation: join(data, 'validation.csv') },
    nodes: 1,
    training: { maxSteps: 1, saveSteps: 1, evaluate: false },
    sanity: { maxSteps: SANITY_STEPS },
  };
}

export async function realModel(lab: BenchLab, client: Client, taskQueue: string): Promise<RealModelResult> {
  const input = realModelSpec();
  const orchestrated: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const run = await temporalRun(client, taskQueue, uniqueId('bench-real'), input);
    orchestrated.push(run.summary.sanity.samplesPerSecond);
    direct.push(await directSanity(lab, input));
    log(`real model: sanity run ${orchestrated.at(-1)} samples/s, direct ${direct.at(-1)} samples/s`);
  }
  return { orchestrated, direct, ratio: median(orchestrated) / median(direct) };
}

/** The sanity run's command on a fresh node from the run's image, in the foreground: samples/s (steady). */
async function directSanity(lab: BenchLab, input: RunSpecInput): Promise<number> {
  const spec = normalized(input);
  const provider = bindRun(lab.provider, spec);
  const ref = { clusterId: uniqueId('bench-real-direct'), runName: spec.name };
  try {
    await provider.bootstrap(ref);
    const image = await provider.findImage(await recipeFingerprint(recipeFor(spec)));
    if (!image) throw new Error('no baked image for the real-model spec: the whole run should have baked it');
    const [node] = await provider.launchNodes({ cluster: ref, role: 'master', names: ['master'], image });
    if (!node) throw new Error('no node');
    const target = sshTarget(node, await provider.sshIdentity());
    await lab.deps.remote.waitReady(target, bootWaitFor(node).sshReadyMs);
    const cpu = parseLscpu((await lab.deps.remote.check(target, LSCPU_COMMAND, { label: 'lscpu' })).stdout);
    const sources: StageSources = {
      s3Client: createS3Client,
      openStore: (uri) => lab.deps.openStore(uri, 'us-east-1'),
      region: 'us-east-1',
    };
    await stageInputs(spec, await checkInputs(spec, sources), { remote: lab.deps.remote, target }, sources);
    const done = await foreground(lab, target, sanityCommand(spec, cpu), 'direct sanity run');
    return done.steady_samples_per_second ?? done.train_samples_per_second;
  } finally {
    await provider.terminateNodes(ref).catch(() => undefined);
    await provider.cleanup(ref).catch(() => undefined);
  }
}
