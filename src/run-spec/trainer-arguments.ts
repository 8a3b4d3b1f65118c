// Which names training.extraArgs may pass to the trainer: any TrainingArguments field or script option
// (training-argument-names.ts, generated), except those a spec field sets or the trainer fixes. Pure.
import { TRAINER_ARGUMENT_NAMES } from './training-argument-names';

/** Trainer arguments tuneforge sets from a spec field: refused in extraArgs, with the field to use instead. */
export const MANAGED_ARGS: Readonly<Record<string, string>> = {
  do_eval: 'evaluation is switched by training.evaluate (true by default; false turns it off), not by extraArgs',
  max_steps: 'set by training.maxSteps',
  num_train_epochs: 'set by training.epochs',
  per_device_train_batch_size: 'set by training.perDeviceBatchSize',
  gradient_accumulation_steps: 'set by training.gradientAccumulationSteps',
  learning_rate: 'set by training.learningRate',
  save_steps: 'set by training.saveSteps',
  save_total_limit: 'set by training.saveTotalLimit',
  seed: 'set by training.seed (kept identical across restarts: resuming depends on it)',
  bf16: 'set by training.bf16',
  output_dir: 'the run manages its output folder (checkpoints, model) itself',
  resume: 'the run resumes from the newest complete checkpoint itself',
  logging_steps: 'the run reads progress from a log line per step',
  model_name_or_path: 'set by model',
  model_revision: 'set by model.revision',
  tokenizer_name: 'set by the recipe',
  train_file: 'set by data.train',
  validation_file: 'set by data.validation',
  dataset_name: 'set by data.train.hub',
  dataset_config_name: 'set by data.train.config',
  dataset_revision: 'set by data.train.revision',
  dataset_dir: "set by the run: the master's copy of data.train.hub at its resolved commit",
  train_split: 'set by data.train.split',
  validation_split: 'set by data.validation.split',
  text_column: 'set by data.columns.text',
  text_pair_column: 'set by data.columns.textPair',
  label_column: 'set by data.columns.label',
  max_seq_length: 'set by training.maxSeqLength',
  doc_stride: 'set by training.docStride (question-answering only)',
  // Fixed by the trainer (FORCED_TRAINING_ARGUMENTS in recipes/common/training_run.py):
  use_cpu: 'the nodes are CPU machines: the trainer always runs on the CPU',
  ddp_backend: 'the trainer picks the CPU backend that mpirun and torch.distributed use across the nodes',
  save_strategy: 'checkpoints are saved every training.saveSteps steps: recovery resumes from them',
  logging_strategy: 'the run reads progress from a log line per step',
  eval_strategy: 'evaluation runs once after training (training.evaluate)',
  report_to: 'progress goes to tuneforge (the Web UI, summary and run.json), not to an external tracker',
  disable_tqdm: 'the trainer turns progress bars off: the run reads its own progress lines',
  average_tokens_across_devices: 'the trainer sets it so that 1 rank and N ranks report and backpropagate the same mean loss',
  resume_from_checkpoint: 'the run resumes from the newest checkpoint complete on every node itself',
};

/** Edit distance between two names, for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** A name neither TrainingArguments nor the trainer scripts know: refused before anything launches. */
function unknownArgumentMessage(name: string): string | undefined {
  if (TRAINER_ARGUMENT_NAMES.includes(name)) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const known of TRAINER_ARGUMENT_NAMES) {
    const distance = editDistance(name, known);
    if (!best || distance < best.distance) best = { name: known, distance };
  }
  // Beyond a third of the name the nearest name is a guess, not a typo.
  const near = best && best.distance <= Math.max(2, Math.ceil(name.length / 3)) ? `; did you mean ${best.name}?` : '';
  return `unknown trainer argument "${name}"${near}`;
}

/** Why extraArgs may not name `name`, or undefined when it may. */
export function trainerArgumentProblem(name: string): string | undefined {
  return Object.hasOwn(MANAGED_ARGS, name) ? MANAGED_ARGS[name] : unknownArgumentMessage(name);
}
