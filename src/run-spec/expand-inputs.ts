// A spec gives a recipe preset, or task + model + data; a preset's model or data may be replaced by the
// spec's own (a whole `data`, never one split: a user's train next to the preset's validation means nothing).
// The task of a preset cannot change. A spec without a preset trains with its task's defaults. Pure: the workflow validates specs too.
import type { z } from 'zod';
import {
  inputProblems,
  normalizeData,
  normalizeModel,
  PRESETS,
  type DataSettings,
  type InputProblem,
  type ModelSource,
  type RecipeName,
  type TaskName,
  type dataInput,
  type modelInput,
} from './inputs';

interface WrittenInputs {
  provider: 'local' | 'aws';
  recipe?: RecipeName | undefined;
  task?: TaskName | undefined;
  model?: z.output<typeof modelInput> | undefined;
  data?: z.output<typeof dataInput> | undefined;
}

export interface RunInputs {
  /** The preset the spec names; undefined when it gives task, model and data of its own (task defaults, base recipe). */
  preset: RecipeName | undefined;
  task: TaskName;
  model: ModelSource;
  data: DataSettings;
}

export function inputsProblems(spec: WrittenInputs): InputProblem[] {
  if (!spec.recipe) {
    const missing = (['task', 'model', 'data'] as const).filter((k) => spec[k] === undefined);
    if (missing.length > 0)
      return [
        { path: ['recipe'], message: `is required: give a recipe preset, or ${missing.join(', ')} (with task, model and data)` },
      ];
  }
  const preset = spec.recipe ? PRESETS[spec.recipe] : undefined;
  if (preset && spec.task && spec.task !== preset.task) {
    return [{ path: ['task'], message: `recipe ${spec.recipe} is a ${preset.task} preset`, input: spec.task }];
  }
  const task = spec.task ?? preset?.task;
  if (!task) return [];
  const data = spec.data ? normalizeData(spec.data) : preset?.data;
  return data ? inputProblems(task, data) : [];
}

/**
 * The run's task, model and data with the preset expanded. The spec keeps what was written (so a
 * validated spec validates again unchanged); every step reads its inputs through this. Called only on a
 * spec inputsProblems accepted.
 */
export function runInputs(spec: WrittenInputs): RunInputs {
  const preset = spec.recipe ? PRESETS[spec.recipe] : undefined;
  const task = spec.task ?? preset?.task ?? 'question-answering';
  const model = spec.model ? normalizeModel(spec.model) : preset?.model;
  const data = spec.data ? normalizeData(spec.data) : preset?.data;
  if (!model || !data) throw new Error('runInputs: a spec without a preset needs model and data');
  return { preset: spec.recipe, task, model, data };
}

/** The model in words: a hub id (with its revision), a path, a URI, or a preset's asset. */
export function describeModel(model: ModelSource): string {
  if (model.kind === 'hub') return `${model.id}${model.revision ? `@${model.revision}` : ''}`;
  if (model.kind === 'asset') return `preset asset ${model.folder}`;
  return model.kind === 'path' ? model.path : model.uri;
}

/**
 * What a run trains, in words, for summaries and progress ("<this> on <provider>"): the preset's name, or for a
 * run without one its task and model ("text-classification of /models/minilm"): never a preset it did not use.
 */
export function runTitle(spec: WrittenInputs): string {
  const { preset, task, model } = runInputs(spec);
  if (preset && !spec.model) return preset;
  return preset ? `${preset} with ${describeModel(model)}` : `${task} of ${describeModel(model)}`;
}

/**
 * The TuneforgeRecipe search attribute (a Keyword `list --recipe` filters on): the preset's name, or the task's
 * name for a run without a preset, so `list --recipe text-classification` finds every such run of a task.
 */
export function recipeAttribute(spec: WrittenInputs): string {
  const { preset, task } = runInputs(spec);
  return preset ?? task;
}
