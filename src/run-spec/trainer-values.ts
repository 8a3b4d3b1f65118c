// The values the trainer gets for a spec, each with where it came from: the spec, the preset, the task's
// defaults, or tuneforge's own default for a field every task shares. Plans show them; the command line is
// built from them. Pure: workflow code builds command lines too.
import { PRESETS, type RecipeName, type TaskName } from './inputs';
import { TASK_DEFINITIONS } from './tasks';

export type Provenance = 'spec' | `preset ${RecipeName}` | 'task default' | 'tuneforge default';

export interface Sourced<T> {
  value: T;
  from: Provenance;
}

/** tuneforge's defaults for the training fields every task shares (the schema applies them). */
export const TRAINING_DEFAULTS = {
  perDeviceBatchSize: 8,
  gradientAccumulationSteps: 1,
  saveSteps: 20,
  saveTotalLimit: 2,
  seed: 42,
  bf16: false,
  evaluate: true,
} as const;

type SharedField = keyof typeof TRAINING_DEFAULTS;
/** The shared fields' types: boolean for a flag, number otherwise (the normalized spec has them all). */
type SharedValues = { -readonly [K in SharedField]: (typeof TRAINING_DEFAULTS)[K] extends boolean ? boolean : number };

/**
 * The parts of a normalized spec the trainer's values come from. Written here, not taken from schema.ts,
 * because schema.ts applies TRAINING_DEFAULTS: naming RunSpec here would tie the two modules in a circle.
 */
export interface TrainerSource extends TunedSource {
  training: TunedSource['training'] & SharedValues & {
    maxSteps?: number | undefined;
    epochs?: number | undefined;
    extraArgs: Record<string, string | number | boolean>;
  };
}

export interface TrainerValues {
  learningRate: Sourced<number>;
  maxSeqLength: Sourced<number>;
  /** QA only: null for a task that does not split long contexts into windows. */
  docStride: Sourced<number> | null;
  /** The spec sets exactly one of maxSteps or epochs. */
  length: Sourced<{ maxSteps: number } | { epochs: number }>;
  shared: { [K in SharedField]: Sourced<SharedValues[K]> };
  extraArgs: Record<string, Sourced<string | number | boolean>>;
}

type TunedField = 'learningRate' | 'maxSeqLength' | 'docStride';

/** The parts of a spec (written or normalized) that decide a tuned value. */
export interface TunedSource {
  task?: TaskName | undefined;
  recipe?: RecipeName | undefined;
  training: Partial<Record<TunedField, number | undefined>>;
}

export function taskOf(spec: { task?: TaskName | undefined; recipe?: RecipeName | undefined }): TaskName {
  return spec.task ?? (spec.recipe ? PRESETS[spec.recipe].task : 'question-answering');
}

/** The spec's value, else the preset's, else the task's default; undefined only for docStride on a task without one. */
export function tunedValue(spec: TunedSource, field: TunedField): Sourced<number> | undefined {
  const written = spec.training[field];
  if (written !== undefined) return { value: written, from: 'spec' };
  const preset = spec.recipe;
  const fromPreset = preset ? PRESETS[preset].overrides[field] : undefined;
  if (preset && fromPreset !== undefined) return { value: fromPreset, from: `preset ${preset}` };
  const fromTask = TASK_DEFINITIONS[taskOf(spec)].defaults[field];
  return fromTask === undefined ? undefined : { value: fromTask, from: 'task default' };
}

function required(spec: TunedSource, field: 'learningRate' | 'maxSeqLength'): Sourced<number> {
  const value = tunedValue(spec, field);
  // Every task defines both: TaskDefaults makes them required.
  if (!value) throw new Error(`task ${taskOf(spec)} has no default ${field}`);
  return value;
}

/**
 * A shared field equal to tuneforge's default is reported as that default: the normalized spec cannot tell a
 * written 8 from the default 8, and the trainer gets the same value either way.
 */
function shared<K extends SharedField>(t: SharedValues, field: K): Sourced<SharedValues[K]> {
  return { value: t[field], from: t[field] === TRAINING_DEFAULTS[field] ? 'tuneforge default' : 'spec' };
}

export function trainerValues(spec: TrainerSource): TrainerValues {
  const t = spec.training;
  const docStride = taskOf(spec) === 'question-answering' ? (tunedValue(spec, 'docStride') ?? null) : null;
  return {
    learningRate: required(spec, 'learningRate'),
    maxSeqLength: required(spec, 'maxSeqLength'),
    docStride,
    length: { value: t.maxSteps !== undefined ? { maxSteps: t.maxSteps } : { epochs: t.epochs ?? 1 }, from: 'spec' },
    shared: {
      perDeviceBatchSize: shared(t, 'perDeviceBatchSize'),
      gradientAccumulationSteps: shared(t, 'gradientAccumulationSteps'),
      saveSteps: shared(t, 'saveSteps'),
      saveTotalLimit: shared(t, 'saveTotalLimit'),
      seed: shared(t, 'seed'),
      bf16: shared(t, 'bf16'),
      evaluate: shared(t, 'evaluate'),
    },
    extraArgs: Object.fromEntries(Object.entries(t.extraArgs).map(([k, v]) => [k, { value: v, from: 'spec' as const }])),
  };
}

export interface TrainerValueRow {
  /** The trainer's argument name (--name). */
  name: string;
  value: string | number | boolean;
  from: Provenance;
}

/** Every trainer value under the trainer's argument names, in command-line order: for plans and model cards. */
export function trainerValueRows(values: TrainerValues): TrainerValueRow[] {
  const row = (name: string, v: Sourced<string | number | boolean>): TrainerValueRow => ({ name, ...v });
  const { shared, length } = values;
  return [
    row('learning_rate', values.learningRate),
    row('max_seq_length', values.maxSeqLength),
    ...(values.docStride ? [row('doc_stride', values.docStride)] : []),
    'maxSteps' in length.value
      ? row('max_steps', { value: length.value.maxSteps, from: length.from })
      : row('num_train_epochs', { value: length.value.epochs, from: length.from }),
    row('per_device_train_batch_size', shared.perDeviceBatchSize),
    row('gradient_accumulation_steps', shared.gradientAccumulationSteps),
    row('bf16', shared.bf16),
    row('seed', shared.seed),
    row('save_steps', shared.saveSteps),
    row('save_total_limit', shared.saveTotalLimit),
    row('do_eval', shared.evaluate),
    ...Object.entries(values.extraArgs).map(([name, v]) => row(name, v)),
  ];
}
