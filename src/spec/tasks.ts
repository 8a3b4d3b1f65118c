// The task table: one record per task (its trainer, its scores, its defaults); every other place reads it,
// so a third task is one entry here and a missing one is a type error. Pure: workflow code imports it.
import type { TaskName } from './inputs';

/** Trainer values a spec may leave out. docStride exists only where long contexts are split into windows (QA). */
export interface TaskDefaults {
  learningRate: number;
  maxSeqLength: number;
  docStride?: number;
}

export interface TaskDefinition {
  name: TaskName;
  /** The trainer, in recipes/common/. */
  script: string;
  /** The scores its evaluation reports, by run.json's names (0-100). */
  metrics: readonly string[];
  /** Hugging Face's pipeline for the delivered model (the model card's `pipeline_tag`). */
  pipelineTag: string;
  defaults: TaskDefaults;
}

export const TASK_DEFINITIONS: Readonly<Record<TaskName, TaskDefinition>> = {
  // Hugging Face's run_qa.py: learning rate 3e-5, max_seq_length 384, doc_stride 128.
  'question-answering': {
    name: 'question-answering',
    script: 'train_qa.py',
    metrics: ['exact_match', 'f1'],
    pipelineTag: 'question-answering',
    defaults: { learningRate: 3e-5, maxSeqLength: 384, docStride: 128 },
  },
  // Hugging Face's run_glue.py: learning rate 2e-5, max_seq_length 128 (classification truncates; no stride).
  'text-classification': {
    name: 'text-classification',
    script: 'train_cls.py',
    metrics: ['accuracy', 'macro_f1'],
    pipelineTag: 'text-classification',
    defaults: { learningRate: 2e-5, maxSeqLength: 128 },
  },
};
