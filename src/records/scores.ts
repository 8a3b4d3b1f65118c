// How good a trained model is: the scores each task's evaluation reports. Plain records that import nothing,
// so every layer (recipes, activities, workflows, the CLI) can speak in them without an import circle.

/** Every score any task reports, by run.json's names (snake_case, as the spec's promote.metric); all 0-100. */
export const METRIC_NAMES = ['f1', 'exact_match', 'accuracy', 'macro_f1'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Scores under run.json's names; a task reports only its own. */
export type RunMetrics = Partial<Record<MetricName, number>>;

/** Quality of the trained model on the validation split, in percent (0-100), by task. */
export type EvalScores = QaScores | ClassificationScores;

/** Question answering, scored by SQuAD v1.1 rules. */
export interface QaScores {
  exactMatch: number;
  f1: number;
  /** Examples scored. */
  samples: number;
}

export interface ClassificationScores {
  accuracy: number;
  macroF1: number;
  samples: number;
}
