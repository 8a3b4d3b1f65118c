// How a model's scores read in summaries, status and the Web UI: each task's own pair of metrics.
import type { EvalScores } from '../activities/types';

type Metric = [label: string, value: number];

function metrics(scores: EvalScores): [Metric, Metric] {
  return 'exactMatch' in scores
    ? [
        ['Exact match', scores.exactMatch],
        ['F1', scores.f1],
      ]
    : [
        ['Accuracy', scores.accuracy],
        ['Macro-F1', scores.macroF1],
      ];
}

/** Label and value rows, the first saying how many examples were scored. */
export function scoreRows(scores: EvalScores): Array<[string, string]> {
  const [[firstLabel, first], [secondLabel, second]] = metrics(scores);
  return [
    [firstLabel, `${first.toFixed(2)} (${scores.samples} examples)`],
    [secondLabel, second.toFixed(2)],
  ];
}

/** One line: `exact match 62.50, F1 71.25 (64 examples)`. */
export function scoreText(scores: EvalScores): string {
  const [[firstLabel, first], [secondLabel, second]] = metrics(scores);
  return `${firstLabel.toLowerCase()} ${first.toFixed(2)}, ${secondLabel} ${second.toFixed(2)} (${scores.samples} examples)`;
}
