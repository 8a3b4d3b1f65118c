// The run spec: what a user writes (RunSpecInput) and the normalized form every step reads (RunSpec).
// Pure: imported by workflow code too, so it must not touch Node APIs.
import { z } from 'zod';
import { parseArtifactUri } from '../artifacts/artifact-uri';
import { notifySchema } from './notify';
import { promote, promoteProblems } from './promote';
import { inputsProblems } from './expand-inputs';
import { dataInput, modelInput, RECIPES, taskInput } from './inputs';
import { trainerArgumentProblem } from './trainer-arguments';
import { taskOf, TRAINING_DEFAULTS, tunedValue } from './trainer-values';

export { RECIPES, TASKS, type RecipeName, type TaskName } from './inputs';
import type { RecipeName, TaskName } from './inputs';

/** A run name: 2-40 lowercase letters, digits and dashes, starting with a letter (it names folders and tags). */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const ARG_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const positiveInt = z.number().int().positive();

// A value that begins with "-" would be read as another option by the trainer's parser.
const argValue = z.union([
  z
    .string()
    .max(512)
    .refine((v) => !v.startsWith('-'), 'values may not begin with "-" (the trainer would read an option)'),
  z.number(),
  z.boolean(),
]);

const training = z
  .strictObject({
    maxSteps: positiveInt.max(10_000_000).optional(),
    /** Tokens per example (QA: per window); the task's default, or the preset's, when not written. */
    maxSeqLength: z.number().int().min(16).max(8192).optional(),
    /** QA only: tokens each window of a long context shares with the next; less than maxSeqLength. */
    docStride: z.number().int().min(1).max(8191).optional(),
    epochs: z.number().positive().max(1000).optional(),
    perDeviceBatchSize: positiveInt.max(4096).default(TRAINING_DEFAULTS.perDeviceBatchSize),
    gradientAccumulationSteps: positiveInt.max(1024).default(TRAINING_DEFAULTS.gradientAccumulationSteps),
    learningRate: z.number().positive().max(1).optional(),
    saveSteps: positiveInt.default(TRAINING_DEFAULTS.saveSteps),
    saveTotalLimit: positiveInt.max(100).default(TRAINING_DEFAULTS.saveTotalLimit),
    seed: z.number().int().min(0).default(TRAINING_DEFAULTS.seed),
    bf16: z.boolean().default(TRAINING_DEFAULTS.bf16),
    /** Score the model on the validation split after training (SQuAD exact match and F1). */
    evaluate: z.boolean().default(TRAINING_DEFAULTS.evaluate),
    ranksPerNode: z.union([z.literal('auto'), positiveInt.max(64)]).default('auto'),
    threadsPerRank: z.union([z.literal('auto'), positiveInt.max(512)]).default('auto'),
    timeoutMinutes: positiveInt.max(7 * 24 * 60).default(360),
    extraArgs: z
      .record(z.string().regex(ARG_NAME_PATTERN, 'argument names are lowercase letters, digits and _'), argValue)
      .superRefine((args, ctx) => {
        for (const [name, value] of Object.entries(args)) {
          const message = trainerArgumentProblem(name);
          if (message) ctx.addIssue({ code: 'custom', path: [name], message, input: value });
        }
      })
      .default({}),
  })
  .refine((t) => (t.maxSteps === undefined) !== (t.epochs === undefined), {
    message: 'set exactly one of maxSteps or epochs',
  });

const recovery = z.strictObject({
  /** How many times a run may replace lost nodes and resume before it gives up. */
  maxRecoveries: z.number().int().min(0).max(100).default(3),
  /**
   * Extra nodes kept booted from the run's image, data staged, idle and billed: a lost node's place is taken
   * at once instead of after a boot, and a new standby is launched in the background.
   */
  standbyNodes: z.number().int().min(0).max(16).default(0),
  /**
   * How long a lost node's replacement may take before training goes on without it, on the nodes left. 30
   * minutes is longer than the slowest boot (bare metal answers up to ~20 min after launch), so a replacement
   * that is merely booting is never given up; a launch that EC2 refuses for capacity shrinks the run at once.
   */
  capacityWaitMinutes: z.number().int().min(1).max(24 * 60).default(30),
  /** The fewest nodes a run trains on after losses; with fewer left it waits for replacements instead. */
  minNodes: positiveInt.max(64).default(1),
});

const sanity = z.strictObject({
  maxSteps: positiveInt.max(100_000).default(10),
});

const cidr = z.string().refine((value) => {
  const m = CIDR_PATTERN.exec(value);
  return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}, 'must be an IPv4 CIDR such as 203.0.113.7/32');

const baseImage = z.union([
  z.strictObject({ id: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must look like ami-0123456789abcdef0') }),
  z.strictObject({ name: z.string().min(1).max(128), owner: z.string().min(1).max(64) }),
]);

const marketPolicy = z.enum(['on-demand', 'spot', 'spot-then-on-demand']);

const aws = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
  instanceTypes: z.array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'must be an instance type such as r7iz.metal-16xl')).min(1),
  availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be a zone such as us-east-1a')).default([]),
  /** spot-then-on-demand: spot first, on-demand once spotFailuresBeforeOnDemand spot launches found no capacity. */
  market: marketPolicy.default('on-demand'),
  workerMarket: marketPolicy.optional(),
  /**
   * Three: enough to try spot in most of a region's zones (or zones x types), few enough that a spot drought
   * costs seconds before on-demand, not the run.
   */
  spotFailuresBeforeOnDemand: positiveInt.max(100).default(3),
  sshCidr: cidr
    .refine((value) => !value.endsWith('/0'), 'would open SSH to the whole internet; use your own address, e.g. 203.0.113.7/32')
    .optional(),
  baseImage: baseImage.default({ name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*', owner: '099720109477' }),
  requireAmx: z.boolean().default(true),
  privateKeyPath: z.string().min(1),
  publicKeyPath: z.string().min(1).optional(),
  rootVolumeGiB: positiveInt.min(8).max(16_384).default(100),
  keepImage: z.boolean().default(true),
  pricePerHourUsd: z.record(z.string(), z.number().nonnegative()).default({}),
});

const artifactUri = z
  .string()
  .max(1024)
  .superRefine((value, ctx) => {
    try {
      parseArtifactUri(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

const artifactsObject = z.strictObject({
  /** Where the run's model, checkpoints and record go; the local provider defaults to a folder under its lab root. */
  uri: artifactUri.optional(),
  /** Checkpoints kept in the store after a successful run (all are kept after a failure). */
  keepCheckpoints: z.number().int().min(0).max(1000).default(1),
});

/** `artifacts: s3://...` is short for `artifacts: { uri: s3://... }`. */
const artifacts = z
  .union([artifactUri.transform((uri) => ({ uri, keepCheckpoints: 1 })), artifactsObject])
  .default({ keepCheckpoints: 1 });

/** The local provider's nodes cost nothing unless a price is set (to rehearse budgets). */
const local = z.strictObject({
  pricePerHourUsd: z.number().nonnegative().max(100_000).default(0),
});

const common = {
  name: z.string().regex(NAME_PATTERN, 'use 2-40 lowercase letters, digits and dashes, starting with a letter'),
  /** A preset that stands for task, model and data; explicit model or data replace the preset's. */
  recipe: z.enum(RECIPES).optional(),
  task: taskInput.optional(),
  model: modelInput.optional(),
  data: dataInput.optional(),
  nodes: positiveInt.max(64).default(3),
  keepClusterOnFailure: z.boolean().default(false),
  training,
  sanity: sanity.default({ maxSteps: 10 }),
  recovery: recovery.default({ maxRecoveries: 3, standbyNodes: 0, capacityWaitMinutes: 30, minNodes: 1 }),
  artifacts,
  /** Spend cap: at this estimated cost every rank checkpoints, the model is delivered and the cluster torn down. */
  budgetUsd: z.number().positive().max(1_000_000).optional(),
  promote: promote.optional(),
  /** A webhook told when the run ends (src/run-spec/notify.ts; docs/notifications.md). */
  notify: notifySchema.optional(),
};

export const runSpecSchema = z
  .discriminatedUnion('provider', [
    z.strictObject({ ...common, provider: z.literal('local'), local: local.default({ pricePerHourUsd: 0 }) }),
    z.strictObject({ ...common, provider: z.literal('aws'), aws }),
  ])
  .superRefine((spec, ctx) => {
    for (const problem of promoteProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
    if (spec.provider === 'aws') {
      spec.aws.availabilityZones.forEach((zone, i) => {
        if (!zone.startsWith(spec.aws.region) || zone.length !== spec.aws.region.length + 1)
          ctx.addIssue({
            code: 'custom',
            path: ['aws', 'availabilityZones', i],
            input: zone,
            message: `is not a zone of ${spec.aws.region}`,
          });
      });
    }
    if (spec.provider === 'aws' && !spec.artifacts.uri?.startsWith('s3://')) {
      ctx.addIssue({
        code: 'custom',
        path: ['artifacts', 'uri'],
        input: spec.artifacts.uri,
        message: 'aws runs need an S3 artifact store (s3://bucket/prefix): nothing on the nodes outlives the run',
      });
    }
    for (const problem of inputsProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
    for (const problem of windowProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
    if (Number.isInteger(spec.nodes) && spec.nodes >= 1 && spec.recovery.minNodes > spec.nodes) {
      ctx.addIssue({
        code: 'custom',
        path: ['recovery', 'minNodes'],
        input: spec.recovery.minNodes,
        message: `is more than the run's ${spec.nodes} node(s)`,
      });
    }
  });

interface WindowSource {
  task?: TaskName | undefined;
  recipe?: RecipeName | undefined;
  training: { maxSeqLength?: number | undefined; docStride?: number | undefined };
}

/** docStride only where contexts are split into windows (QA), and smaller than the window it strides. */
function windowProblems(spec: WindowSource): Array<{ path: string[]; message: string; input?: unknown }> {
  const { docStride } = spec.training;
  if (taskOf(spec) !== 'question-answering') {
    return docStride === undefined
      ? []
      : [{ path: ['training', 'docStride'], message: 'applies to question-answering only', input: docStride }];
  }
  const length = tunedValue(spec, 'maxSeqLength');
  const stride = tunedValue(spec, 'docStride');
  if (!length || !stride || stride.value < length.value) return [];
  const field = stride.from === 'spec' ? 'docStride' : 'maxSeqLength';
  return [
    {
      path: ['training', field],
      message: `docStride (${stride.value}, ${stride.from}) must be less than maxSeqLength (${length.value}, ${length.from})`,
      input: spec.training[field],
    },
  ];
}

export type RunSpecInput = z.input<typeof runSpecSchema>;
export type RunSpec = z.output<typeof runSpecSchema>;
export type AwsSettings = z.output<typeof aws>;
export type MarketPolicy = z.output<typeof marketPolicy>;
export type ProviderName = RunSpec['provider'];
export type TrainingSettings = RunSpec['training'];
export type ArtifactSettings = RunSpec['artifacts'];
