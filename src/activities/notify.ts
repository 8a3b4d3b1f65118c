// notify-run: POSTs a run's end to the spec's webhook. The URL is a secret (Slack and most services carry
// their token in it): it is read here, from the input or the worker's environment, and never logged, thrown
// or returned. A POST cannot be made idempotent from this side: the body's noticeId lets a receiver drop
// the repeat of an attempt whose answer was lost.
import { log } from '@temporalio/activity';
import { webhookFailed } from '../common/errors';
import { webhookBody, type RunNotice } from '../common/run-notice';
import { webhookUrlProblem, type WebhookTarget } from '../run-spec/notify';
import { activitySignal } from './deps';

/** A receiver that has not answered in this long is not going to: the attempt fails and is retried. */
export const NOTIFY_TIMEOUT_MS = 10_000;

export interface NotifyInput {
  webhook: WebhookTarget;
  notice: RunNotice;
}

export interface NotifyResult {
  sent: boolean;
  /** The receiver's HTTP status; null when nothing was sent. */
  status: number | null;
  /** Why nothing was sent (a missing variable), in words without the URL. */
  reason?: string;
}

export interface NotifyOptions {
  /** Where `{ fromEnv }` names are read; default: the worker's process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Per attempt; default NOTIFY_TIMEOUT_MS (tests shorten it). */
  timeoutMs?: number;
}

export function createNotifyActivities(options: NotifyOptions = {}) {
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  return {
    async notifyRun(input: NotifyInput): Promise<NotifyResult> {
      const target = resolveUrl(input.webhook, options.env ?? process.env);
      if ('reason' in target) {
        // A worker without the variable is a deployment's choice or mistake, not the run's: say so and go on.
        log.warn('the run notice was not sent', { reason: target.reason, runName: input.notice.runName });
        return { sent: false, status: null, reason: target.reason };
      }
      const status = await post(target.url, JSON.stringify(webhookBody(input.notice)), timeoutMs);
      log.info('the run notice was sent', { status, runName: input.notice.runName, outcome: input.notice.outcome });
      return { sent: true, status };
    },
  };
}

function resolveUrl(
  webhook: WebhookTarget,
  env: Readonly<Record<string, string | undefined>>,
): { url: string } | { reason: string } {
  if (typeof webhook === 'string') return { url: webhook };
  const value = env[webhook.fromEnv];
  if (value === undefined || value.trim() === '') return { reason: `$${webhook.fromEnv} is not set on the worker` };
  const problem = webhookUrlProblem(value.trim());
  return problem ? { reason: `$${webhook.fromEnv} ${problem}` } : { url: value.trim() };
}

/** One attempt: a 2xx answer is success; the status, never the URL, goes into any failure. */
async function post(url: string, body: string, timeoutMs: number): Promise<number> {
  const cancelled = activitySignal();
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'tuneforge' },
      body,
      // A redirect would carry the notice to a host the spec never named.
      redirect: 'manual',
      signal: cancelled ? AbortSignal.any([timeout, cancelled]) : timeout,
    });
  } catch (err) {
    throw webhookFailed(timeout.aborted ? `no answer within ${timeoutMs / 1000} s` : fetchErrorCode(err), true);
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.ok) return response.status;
  const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
  throw webhookFailed(`HTTP ${response.status}`, retryable);
}

/** undici's error is "fetch failed" with the cause's code (ECONNREFUSED, ENOTFOUND); its messages may name the host. */
function fetchErrorCode(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause !== null && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.name : 'the request failed';
}
