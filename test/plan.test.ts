// `tuneforge plan`: the built CLI as a child process, on the preset and on specs it must refuse.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT } from '../src/client/exit-codes';
import { packageRoot } from '../src/common/package-root';
import type { RunPlan } from '../src/recipes/run-plan';
import { shellJoin } from '../src/remote/shell-quote';

const MAIN = resolve(__dirname, '../src/client/main.js');
const PRESET = join(packageRoot(), 'examples/distilbert-squad.yaml');
const HAS_LSCPU = spawnSync('sh', ['-c', 'command -v lscpu']).status === 0;

/** Runs the CLI; an address nothing answers on proves the plan contacts no Temporal server. */
function tuneforge(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:9', AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:9' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function planJson(spec: string): RunPlan {
  const run = tuneforge('plan', spec, '--json');
  assert.equal(run.code, EXIT.ok, run.stderr);
  return JSON.parse(run.stdout) as RunPlan;
}

/** Flag/value pairs as consecutive words. */
function hasPair(args: string[], flag: string, value: string): boolean {
  return args.some((arg, i) => arg === flag && args[i + 1] === value);
}

const dir = mkdtempSync(join(tmpdir(), 'tuneforge-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The preset with some YAML lines replaced (key: value at two-space indent or top level). */
function presetWith(name: string, replace: Array<[RegExp, string]>): string {
  const text = replace.reduce((t, [pattern, line]) => t.replace(pattern, line), readFileSync(PRESET, 'utf8'));
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('tuneforge plan on the distilbert-squad preset', () => {
  it("prints the post's layout and the exact commands, and exits 0", () => {
    const run = tuneforge('plan', PRESET);
    assert.equal(run.code, EXIT.ok, run.stderr);
    const out = run.stdout;
    for (const line of [
      /^Nodes: +4 x r7iz\.metal-16xl/m,
      /^CPU per node: +1 socket, 1 NUMA node, 32 physical cores, 64 vCPUs, AMX \(known table, inferred from public data/m,
      /^Ranks per node: +2 \(8 ranks in all\), each bound to 16 cores$/m,
      /^Threads per rank: +15 \(OMP_NUM_THREADS\)$/m,
      /^Global batch: +256 \(8 ranks x 32 per rank x 1 accumulation step\(s\)\)$/m,
      /^Evaluation: +on/m,
      /^Hub downloads: +distilbert\/distilbert-base-uncased, rajpurkar\/squad$/m,
      /^ {2}master slots=2$/m,
      /^ {2}worker-3 slots=2$/m,
    ]) {
      assert.match(out, line);
    }
    assert.match(
      out,
      /mpirun\.openmpi --hostfile tuneforge\/jobs\/train-0\/hostfile -np 8 --map-by ppr:2:numa:PE=16 --bind-to core /,
    );
    assert.match(out, / -x OMP_NUM_THREADS=15 /);
    for (const pair of [
      '--model_name_or_path tuneforge/inputs/model',
      '--dataset_name rajpurkar/squad',
      '--per_device_train_batch_size 32',
      '--learning_rate 0.00005',
      '--max_seq_length 384',
      '--doc_stride 128',
      '--num_train_epochs 1',
      '--bf16',
      '--do_eval',
    ]) {
      assert.match(out, new RegExp(`^ {2}${pair.replace(/[.]/g, '\\.')}$`, 'm'), `trainer argument line ${pair}`);
    }
  });

  it('--json gives the same plan as data; the mpirun line runs exactly the trainer arguments', () => {
    const plan = planJson(PRESET);
    assert.deepEqual(
      [
        plan.nodes,
        plan.instanceType,
        plan.ranksPerNode,
        plan.worldSize,
        plan.threadsPerRank,
        plan.coresPerRank,
        plan.batch.global,
      ],
      [4, 'r7iz.metal-16xl', 2, 8, 15, 16, 256],
    );
    assert.equal(plan.learningRate, 5e-5);
    assert.equal(plan.evaluate, true);
    assert.deepEqual(plan.hubIds, ['distilbert/distilbert-base-uncased', 'rajpurkar/squad']);
    const args = plan.trainerArgs;
    assert.ok(hasPair(args, '--per_device_train_batch_size', '32'));
    assert.ok(hasPair(args, '--learning_rate', '0.00005'));
    assert.ok(hasPair(args, '--max_seq_length', '384') && hasPair(args, '--doc_stride', '128'));
    assert.ok(hasPair(args, '--num_train_epochs', '1'));
    assert.ok(args.includes('--bf16') && args.includes('--do_eval'));
    assert.ok(plan.mpirun?.endsWith(shellJoin(args)), plan.mpirun ?? 'no mpirun line');
    assert.ok(plan.sanity && !plan.sanity.includes('--do_eval'), 'the sanity run never evaluates');
    assert.ok(plan.sanity.includes('OMP_NUM_THREADS=32'), 'the sanity run uses every core of one node');
  });
});

describe('tuneforge plan on other specs', () => {
  it('refuses an invalid spec with exit code 2, like start, and prints no plan', () => {
    const bad = presetWith('do-eval', [[/^ {2}evaluate: .*$/m, '  extraArgs: {do_eval: true}']]);
    const run = tuneforge('plan', bad);
    assert.equal(run.code, EXIT.invalidInput);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /training\.extraArgs\.do_eval: evaluation is switched by training\.evaluate/);
    assert.equal(tuneforge('plan', join(dir, 'missing.yaml')).code, EXIT.invalidInput);
  });

  it('refuses more ranks per node than the instance type has cores, with exit code 2', () => {
    const crowded = presetWith('crowded', [[/^ {2}ranksPerNode: .*$/m, '  ranksPerNode: 64']]);
    const run = tuneforge('plan', crowded);
    assert.equal(run.code, EXIT.invalidInput);
    assert.match(run.stderr, /training\.ranksPerNode: 64 ranks per node, but a node has 32 physical cores/);
  });

  it('drops --do_eval and says so when training.evaluate is false', () => {
    const off = presetWith('no-eval', [[/^ {2}evaluate: .*$/m, '  evaluate: false']]);
    const plan = planJson(off);
    assert.equal(plan.evaluate, false);
    assert.ok(!plan.trainerArgs.includes('--do_eval'));
    assert.match(tuneforge('plan', off).stdout, /^Evaluation: +off/m);
  });

  it('leaves ranks, threads and mpirun to run time for an instance type it knows no layout of', () => {
    const other = presetWith('m7i', [[/^ {2}instanceTypes: .*$/m, '  instanceTypes: [m7i.48xlarge]']]);
    const plan = planJson(other);
    assert.deepEqual([plan.topology, plan.ranksPerNode, plan.mpirun, plan.batch.global], [null, null, null, null]);
    assert.ok(plan.trainerArgs.includes('--do_eval'));
    assert.ok(plan.notes.some((n) => /knows no CPU layout for m7i\.48xlarge/.test(n)));
  });

  it('warns at plan time when bf16 is asked for on an instance type without AMX or AVX-512 BF16', () => {
    const ice = presetWith('m6i', [
      [/^ {2}instanceTypes: .*$/m, '  instanceTypes: [m6i.32xlarge]'],
      [/^ {2}requireAmx: true$/m, '  requireAmx: false'],
    ]);
    const run = tuneforge('plan', ice);
    assert.equal(run.code, EXIT.ok, run.stderr);
    assert.match(run.stdout, /^ {2}- warning: training\.bf16 is true but m6i\.32xlarge has neither AMX nor AVX-512 BF16/m);
    assert.ok(
      planJson(PRESET).notes.includes('training.bf16 runs on AMX (r7iz.metal-16xl); the sanity run confirms the kernels'),
    );
  });

  it("plans a local run from this machine's lscpu, unbound, over loopback", { skip: HAS_LSCPU ? false : 'no lscpu here' }, () => {
    const plan = planJson(join(packageRoot(), 'examples/local-tiny.yaml'));
    assert.equal(plan.topology?.source, 'lscpu on this machine');
    assert.equal(plan.coresPerRank, null);
    assert.match(plan.mpirun ?? '', /--map-by ppr:1:node --bind-to none .*--mca oob_tcp_if_include lo/);
    assert.deepEqual(plan.hubIds, []);
  });

  it("plans a spec without a preset with its task's defaults, the hub reachable, and each value's source", () => {
    const path = join(dir, 'own-cls.yaml');
    writeFileSync(
      path,
      [
        'name: own-cls',
        'provider: aws',
        'task: text-classification',
        'model: distilbert/distilbert-base-uncased',
        'data: {train: s3://my-data/cls/train.csv, validation: s3://my-data/cls/eval.csv}',
        'training: {epochs: 3, perDeviceBatchSize: 16, extraArgs: {lr_scheduler_type: cosine}}',
        'artifacts: s3://my-tuneforge-artifacts/runs',
        'aws: {region: us-east-1, instanceTypes: [r7iz.metal-16xl], privateKeyPath: /k}',
      ].join('\n'),
    );
    const plan = planJson(path);
    assert.equal(plan.recipe, 'text-classification of distilbert/distilbert-base-uncased');
    assert.equal(plan.preset, null);
    assert.ok(hasPair(plan.trainerArgs, '--learning_rate', '0.00002') && hasPair(plan.trainerArgs, '--max_seq_length', '128'));
    assert.ok(!(plan.mpirun ?? '').includes('HF_HUB_OFFLINE'), plan.mpirun ?? 'no mpirun line');
    assert.deepEqual(plan.values.learningRate, { value: 2e-5, from: 'task default' });
    assert.deepEqual(plan.values.maxSeqLength, { value: 128, from: 'task default' });
    assert.equal(plan.values.docStride, null);
    assert.deepEqual(plan.values.shared.perDeviceBatchSize, { value: 16, from: 'spec' });
    assert.deepEqual(plan.values.shared.seed, { value: 42, from: 'tuneforge default' });
    assert.deepEqual(plan.values.extraArgs.lr_scheduler_type, { value: 'cosine', from: 'spec' });
    const text = tuneforge('plan', path).stdout;
    assert.match(text, /^Plan for own-cls: text-classification of distilbert\/distilbert-base-uncased \(no preset\) on aws/m);
    for (const line of [
      /^ {2}learning_rate 0\.00002 +\(task default\)$/m,
      /^ {2}max_seq_length 128 +\(task default\)$/m,
      /^ {2}num_train_epochs 3 +\(spec\)$/m,
      /^ {2}per_device_train_batch_size 16 +\(spec\)$/m,
      /^ {2}lr_scheduler_type cosine +\(spec\)$/m,
    ])
      assert.match(text, line);
  });

  it("shows the preset's values as the preset's", () => {
    const plan = planJson(presetWith('preset-values', [[/^ {2}learningRate: .*$/m, '  maxSeqLength: 256']]));
    assert.deepEqual(plan.values.learningRate, { value: 5e-5, from: 'preset distilbert-squad' });
    assert.deepEqual(plan.values.maxSeqLength, { value: 256, from: 'spec' });
    assert.deepEqual(plan.values.docStride, { value: 128, from: 'preset distilbert-squad' });
  });

  it('refuses an unknown extraArgs name at plan, naming the nearest one, with exit code 2', () => {
    const typo = presetWith('typo', [[/^ {2}evaluate: .*$/m, '  extraArgs: {lr_sheduler_type: cosine}']]);
    const run = tuneforge('plan', typo);
    assert.equal(run.code, EXIT.invalidInput);
    assert.match(run.stderr, /training\.extraArgs\.lr_sheduler_type: unknown trainer argument "lr_sheduler_type"; did you mean lr_scheduler_type\?/);
  });
});
