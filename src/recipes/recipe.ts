// A recipe says what a node needs installed and how to train: the blog's job is one recipe, the tiny
// offline QA stand-in another. Python files live in recipes/<name>/ and recipes/common/.
import type { RecipeName, RunSpec } from '../spec/schema';
import { REMOTE } from './remote-paths';

export interface Recipe {
  name: RecipeName;
  /** Folders under recipes/ uploaded to the master (and so baked into the image). */
  folders: string[];
  /** Relative to recipes/. */
  requirements: string;
  /** Debian/Ubuntu packages the nodes need; installed with sudo only where missing. */
  systemPackages: string[];
  /** Extra pip arguments, e.g. the PyTorch CPU index on EC2. */
  pipArgs: string[];
  /** Environment for every training process (exported by mpirun to all ranks). */
  trainEnv: Record<string, string>;
  /** Arguments after the venv python that make the offline assets, if the recipe has any. */
  prepareAssets?: string[];
  /** Trainer arguments for the model and data (everything but steps, output and schedule). */
  modelArgs: string[];
  defaults: { learningRate: number; maxSeqLength: number; docStride: number };
}

const TRAIN_SCRIPT = `${REMOTE.recipe}/common/train_qa.py`;
const PYTORCH_CPU_INDEX = 'https://download.pytorch.org/whl/cpu';

export const RECIPE_DEFINITIONS: Record<RecipeName, Recipe> = {
  'tiny-qa': {
    name: 'tiny-qa',
    folders: ['common', 'tiny-qa'],
    requirements: 'tiny-qa/requirements.txt',
    systemPackages: ['openmpi-bin'],
    pipArgs: [],
    trainEnv: { HF_HUB_OFFLINE: '1' },
    prepareAssets: [`${REMOTE.recipe}/tiny-qa/make_assets.py`, '--out', REMOTE.assets],
    modelArgs: [
      '--model_name_or_path',
      `${REMOTE.assets}/model`,
      '--tokenizer_name',
      `${REMOTE.assets}/tokenizer`,
      '--train_file',
      `${REMOTE.assets}/data/train.json`,
      '--validation_file',
      `${REMOTE.assets}/data/eval.json`,
    ],
    defaults: { learningRate: 3e-3, maxSeqLength: 96, docStride: 32 },
  },
  'distilbert-squad': {
    name: 'distilbert-squad',
    folders: ['common', 'distilbert-squad'],
    requirements: 'distilbert-squad/requirements.txt',
    systemPackages: ['python3-venv', 'openmpi-bin', 'libopenmpi-dev', 'libtcmalloc-minimal4', 'numactl'],
    pipArgs: ['--extra-index-url', PYTORCH_CPU_INDEX],
    // The post's allocator: tcmalloc cuts malloc contention between OpenMP threads.
    trainEnv: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4' },
    // Namespaced hub ids: the pinned datasets release refuses single-segment ids such as "squad" (HfUriError).
    modelArgs: ['--model_name_or_path', 'distilbert/distilbert-base-uncased', '--dataset_name', 'rajpurkar/squad'],
    // 5e-5 is run_qa's default, which the post's command used.
    defaults: { learningRate: 5e-5, maxSeqLength: 384, docStride: 128 },
  },
};

/**
 * The recipe as a provider's nodes need it. A fresh EC2 Ubuntu image has no `python3-venv` (ensurepip)
 * and pip would take torch's multi-GB CUDA build from PyPI without the CPU index; local nodes have both
 * a venv-capable Python and a local CPU wheel, and no internet.
 */
export function recipeFor(spec: RunSpec): Recipe {
  const recipe = RECIPE_DEFINITIONS[spec.recipe];
  if (spec.provider !== 'aws') return recipe;
  return {
    ...recipe,
    systemPackages: recipe.systemPackages.includes('python3-venv')
      ? recipe.systemPackages
      : ['python3-venv', ...recipe.systemPackages],
    pipArgs: recipe.pipArgs.includes(PYTORCH_CPU_INDEX)
      ? recipe.pipArgs
      : [...recipe.pipArgs, '--extra-index-url', PYTORCH_CPU_INDEX],
  };
}

/** Trainer arguments whose value names a model, tokenizer or dataset: a hub id, or a folder the recipe uploads. */
const SOURCE_ARGS = ['--model_name_or_path', '--tokenizer_name', '--dataset_name'];

/** The Hugging Face hub ids a recipe downloads (values of SOURCE_ARGS that are not files under tuneforge's folder). */
export function hubIds(recipe: Recipe): string[] {
  return recipe.modelArgs.flatMap((arg, i) => {
    const value = recipe.modelArgs[i + 1];
    return SOURCE_ARGS.includes(arg) && value !== undefined && !value.startsWith(`${REMOTE.root}/`) ? [value] : [];
  });
}

export interface TrainArgsOptions {
  outputDir: string;
  maxSteps?: number;
  resume: boolean;
  /** Score the model after training when the spec asks for it; false for the sanity run, which only measures throughput. */
  evaluate: boolean;
}

/** The train_qa.py command line (unquoted words) for this spec. */
export function trainScriptArgs(spec: RunSpec, options: TrainArgsOptions): string[] {
  const recipe = recipeFor(spec);
  const t = spec.training;
  const args = [
    TRAIN_SCRIPT,
    ...recipe.modelArgs,
    '--output_dir',
    options.outputDir,
    '--per_device_train_batch_size',
    String(t.perDeviceBatchSize),
    '--gradient_accumulation_steps',
    String(t.gradientAccumulationSteps),
    '--learning_rate',
    String(t.learningRate ?? recipe.defaults.learningRate),
    '--max_seq_length',
    String(recipe.defaults.maxSeqLength),
    '--doc_stride',
    String(recipe.defaults.docStride),
    '--save_steps',
    String(t.saveSteps),
    '--save_total_limit',
    String(t.saveTotalLimit),
    '--seed',
    String(t.seed),
    '--logging_steps',
    '1',
  ];
  const maxSteps = options.maxSteps ?? t.maxSteps;
  if (maxSteps !== undefined) args.push('--max_steps', String(maxSteps));
  else args.push('--num_train_epochs', String(t.epochs));
  if (t.bf16) args.push('--bf16');
  if (options.evaluate && t.evaluate) args.push('--do_eval');
  if (options.resume) args.push('--resume');
  for (const [key, value] of Object.entries(t.extraArgs)) {
    if (value === false) continue;
    // One word, --name=value: a value can never become an option of its own.
    args.push(value === true ? `--${key}` : `--${key}=${String(value)}`);
  }
  return args;
}
