// A recipe is what a node needs installed (packages, code, offline assets): a preset's, or the base recipe
// of a spec without one. The trainer's values come from spec/trainer-values.ts (spec, preset, task default);
// the spec's task, model and data make the rest of the command line. Python lives in recipes/<name>/ and common/.
import { runInputs } from '../run-spec/expand-inputs';
import { extensionOf, type DataSource, type ModelSource, type TaskName } from '../run-spec/inputs';
import type { RecipeName, RunSpec } from '../run-spec/schema';
import { TASK_DEFINITIONS } from '../run-spec/tasks';
import { trainerValues } from '../run-spec/trainer-values';
import { capabilitiesOf } from '../providers/capabilities';
import { PYTORCH_CPU_INDEX, type Recipe } from './recipe-shape';
import { REMOTE } from './remote-paths';

export type { Recipe };

const trainScript = (task: TaskName) => `${REMOTE.recipe}/common/${TASK_DEFINITIONS[task].script}`;
/**
 * Matches every task's training ranks (`python ... train_qa.py` or `train_cls.py`) for pkill -f (ERE), never
 * mpirun, whose death would kill them unsaved.
 */
export const TRAINING_RANK_PATTERN = `^[^ ]*python[^ ]* [^ ]*(${Object.values(TASK_DEFINITIONS)
  .map((task) => task.script.replace('.', '[.]'))
  .join('|')})`;

export const RECIPE_DEFINITIONS: Record<RecipeName, Recipe> = {
  'tiny-qa': {
    name: 'tiny-qa',
    folders: ['common', 'tiny-qa'],
    requirements: 'tiny-qa/requirements.txt',
    systemPackages: ['openmpi-bin'],
    pipArgs: [],
    trainEnv: { HF_HUB_OFFLINE: '1' },
    prepareAssets: [`${REMOTE.recipe}/tiny-qa/make_assets.py`, '--out', REMOTE.assets],
  },
  'distilbert-squad': {
    name: 'distilbert-squad',
    folders: ['common', 'distilbert-squad'],
    requirements: 'distilbert-squad/requirements.txt',
    systemPackages: ['python3-venv', 'openmpi-bin', 'libopenmpi-dev', 'libtcmalloc-minimal4', 'numactl'],
    pipArgs: ['--extra-index-url', PYTORCH_CPU_INDEX],
    // The post's allocator: tcmalloc cuts malloc contention between OpenMP threads.
    trainEnv: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4' },
  },
  'tiny-cls': {
    name: 'tiny-cls',
    folders: ['common', 'tiny-cls'],
    requirements: 'tiny-cls/requirements.txt',
    systemPackages: ['openmpi-bin'],
    pipArgs: [],
    trainEnv: { HF_HUB_OFFLINE: '1' },
    prepareAssets: [`${REMOTE.recipe}/tiny-cls/make_assets.py`, '--out', REMOTE.assets],
  },
};

/**
 * The recipe as a provider's nodes need it: a preset's as the provider adapts it, or the provider's base
 * recipe (src/providers/<name>/capabilities.ts says what each provider's image lacks).
 */
export function recipeFor(spec: RunSpec): Recipe {
  const recipe = providerRecipe(spec);
  // The ranks read a hub dataset with the datasets library; only specs with one get it (and so another image).
  if (runInputs(spec).data.train.kind !== 'hub' || REQUIREMENTS_WITH_DATASETS.includes(recipe.requirements)) return recipe;
  return { ...recipe, requirements: HUB_DATA_REQUIREMENTS };
}

/** The requirement files that pin datasets already; any other recipe reading a hub dataset gets HUB_DATA_REQUIREMENTS. */
const REQUIREMENTS_WITH_DATASETS = ['distilbert-squad/requirements.txt', 'common/requirements-aws.txt'];
const HUB_DATA_REQUIREMENTS = 'common/requirements-hub-data.txt';

function providerRecipe(spec: RunSpec): Recipe {
  const { preset } = runInputs(spec);
  const provider = capabilitiesOf(spec);
  return preset ? provider.adaptRecipe(RECIPE_DEFINITIONS[preset]) : provider.baseRecipe;
}

/** The Hugging Face hub ids the nodes download: the model and dataset given as hub ids. */
export function hubIds(spec: RunSpec): string[] {
  const { model, data } = runInputs(spec);
  const ids = [model, data.train, data.validation].flatMap((s) => (s.kind === 'hub' ? [s.id] : []));
  return [...new Set(ids)];
}

/** Where a file source lands on every node (a link into the content-addressed copy): the trainer reads it here. */
export function stagedDataPath(split: 'train' | 'validation', source: DataSource): string {
  if (source.kind === 'asset') return `${REMOTE.assets}/${source.path}`;
  const ext = extensionOf(source.kind === 'path' ? source.path : source.kind === 'uri' ? source.uri : '');
  return `${REMOTE.inputs}/${split}.${ext ?? 'data'}`;
}

export const STAGED_MODEL_PATH = `${REMOTE.inputs}/model`;

/** A hub dataset's repo at a commit on every node (content-addressed, pushed by the master): the trainers read it. */
export function stagedDatasetFolder(commit: string): string {
  return `${REMOTE.datasets}/hub-${commit}`;
}

function modelArgs(model: ModelSource): string[] {
  switch (model.kind) {
    case 'asset':
      return [
        '--model_name_or_path',
        `${REMOTE.assets}/${model.folder}`,
        '--tokenizer_name',
        `${REMOTE.assets}/${model.tokenizer}`,
      ];
    default:
      // A hub model too: the master downloaded it once and copied it to every node (fetch-hub-model, stage-hub-repos).
      return ['--model_name_or_path', STAGED_MODEL_PATH];
  }
}

/**
 * Files by path (--train_file/--validation_file), or one hub dataset's splits (defaults train and validation left
 * out). With `datasetRevision`, the commit the master downloaded and pushed to every node, the ranks read that
 * copy (--dataset_dir, offline); without it (a plan), the spec's revision.
 */
export function dataSourceArgs(spec: RunSpec, datasetRevision?: string): string[] {
  const { data, task } = runInputs(spec);
  const { train, validation, columns } = data;
  const args: string[] = [];
  if (train.kind === 'hub' && validation.kind === 'hub') {
    args.push('--dataset_name', train.id);
    if (train.config) args.push('--dataset_config_name', train.config);
    if (datasetRevision) args.push('--dataset_dir', stagedDatasetFolder(datasetRevision));
    else if (train.revision) args.push('--dataset_revision', train.revision);
    if (train.split !== 'train') args.push('--train_split', train.split);
    if (validation.split !== 'validation') args.push('--validation_split', validation.split);
  } else {
    args.push('--train_file', stagedDataPath('train', train), '--validation_file', stagedDataPath('validation', validation));
  }
  if (task === 'text-classification' && columns) {
    if (columns.text) args.push('--text_column', columns.text);
    if (columns.textPair) args.push('--text_pair_column', columns.textPair);
    if (columns.label) args.push('--label_column', columns.label);
  }
  return args;
}

export interface TrainArgsOptions {
  outputDir: string;
  maxSteps?: number;
  resume: boolean;
  /** Score the model after training when the spec asks for it; false for the sanity run, which only measures throughput. */
  evaluate: boolean;
  /** A hub dataset's commit as the master downloaded it (fetch-hub-data): its copy is read instead of the hub. */
  datasetRevision?: string;
}

/** The task's trainer command line (unquoted words) for this spec: train_qa.py or train_cls.py. */
export function trainScriptArgs(spec: RunSpec, options: TrainArgsOptions): string[] {
  const { task, model } = runInputs(spec);
  const t = spec.training;
  const values = trainerValues(spec);
  const args = [
    trainScript(task),
    ...modelArgs(model),
    ...dataSourceArgs(spec, options.datasetRevision),
    '--output_dir',
    options.outputDir,
    '--per_device_train_batch_size',
    String(t.perDeviceBatchSize),
    '--gradient_accumulation_steps',
    String(t.gradientAccumulationSteps),
    '--learning_rate',
    String(values.learningRate.value),
    '--max_seq_length',
    String(values.maxSeqLength.value),
    ...(values.docStride ? ['--doc_stride', String(values.docStride.value)] : []),
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
