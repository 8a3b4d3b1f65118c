// What a webhook is told when a run ends: structured fields for programs and a Slack-compatible `text` line
// for people. Pure: the workflow builds the notice, the notify activity turns it into the POST body.
import type { FailureSummary } from './failure-summary';
import type { MetricScores, PromotionRecord } from './promotion';

export type NoticeOutcome = 'succeeded' | 'failed' | 'cancelled' | 'capped';

export interface RunNotice {
  event: 'run-ended';
  /** The same for every attempt of one run's notice: receivers can drop a repeated POST by it. */
  noticeId: string;
  runName: string;
  workflowId: string;
  outcome: NoticeOutcome;
  /** The root cause's type and the first line of its message; null when the run succeeded. */
  failure: FailureSummary | null;
  /** The delivered model's folder; a capped run delivers one too. */
  modelUri: string | null;
  scores: MetricScores | null;
  /** The promotion gate's decision; null when the spec has no gate or the run delivered no model. */
  promotion: PromotionRecord | null;
  /** True when this run's model became the name's current model. */
  currentModelChanged: boolean;
  costUsd: number;
  runRecord: string | null;
  startedAt: string;
  endedAt: string;
}

export type WebhookBody = RunNotice & { text: string };

const MAX_FAILURE_LINE = 300;

/** The first line of a failure's message, short enough for a chat line (training failures carry a log tail). */
export function failureLine(failure: FailureSummary): FailureSummary {
  const [first = ''] = failure.message.split('\n');
  const line = first.length > MAX_FAILURE_LINE ? `${first.slice(0, MAX_FAILURE_LINE - 3)}...` : first;
  return { type: failure.type, message: line };
}

export function webhookBody(notice: RunNotice): WebhookBody {
  return { text: noticeText(notice), ...notice };
}

/** One line a person reads in a channel: `tuneforge run weekly-qa succeeded: f1 71.25, ...; cost $1.20`. */
export function noticeText(n: RunNotice): string {
  const parts = [`tuneforge run ${n.runName} ${OUTCOME_WORDS[n.outcome]}`];
  if (n.failure) parts.push(`${n.failure.type}: ${n.failure.message}`);
  if (n.scores) parts.push(scoresText(n.scores));
  if (n.promotion) parts.push(n.currentModelChanged ? 'now the current model' : `not promoted (${n.promotion.reason})`);
  if (n.modelUri) parts.push(`model ${n.modelUri}`);
  parts.push(`cost $${n.costUsd.toFixed(2)}`);
  parts.push(`workflow ${n.workflowId}`);
  const [head, ...rest] = parts;
  return `${head}: ${rest.join('; ')}`;
}

const OUTCOME_WORDS: Record<NoticeOutcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'was cancelled',
  capped: 'stopped at its cap',
};

function scoresText(scores: MetricScores): string {
  return Object.entries(scores)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, value]) => `${name} ${value.toFixed(2)}`)
    .join(', ');
}
