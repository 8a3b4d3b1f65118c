// A spec gives a recipe preset, or task + model + data; a preset's model or data may be replaced by the
// spec's own (a whole `data`, never one split: a user's train next to the preset's validation means nothing).
// The task of a preset cannot change. The spec's recipe, when not written, is the task's base recipe. Pure: the workflow validates specs too.
import type { z } from 'zod';
import {
  baseRecipe,
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
  /** The preset written, or the task's base recipe (packages, code and defaults). */
  recipe: RecipeName;
  /** True when the spec named the recipe itself. */
  preset: boolean;
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
  if (!model || !data) throw new Error('expandInputs: a spec without a preset needs model and data');
  return { recipe: spec.recipe ?? baseRecipe(task, spec.provider), preset: spec.recipe !== undefined, task, model, data };
}
