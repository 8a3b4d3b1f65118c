// How a model's scores read in summaries, status and the Web UI: each task's own pair of metrics, labelled
// and ordered by the task table (src/run-spec/tasks.ts).
import type { EvalScores } from '../records/scores';
import { scoreValues } from '../run-spec/tasks';

type Metric = [label: string, value: number];

function metrics(scores: EvalScores): [Metric, Metric] {
  const [first, second] = scoreValues(scores).map(([score, value]): Metric => [score.label, value]);
  if (!first || !second) throw new Error('every task reports two scores');
  return [first, second];
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
