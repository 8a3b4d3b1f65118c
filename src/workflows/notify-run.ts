// The webhook notice at a run's end, after run.json is written: once per chain (the run that continues as
// new does not notify), not cancellable (a cancelled run is one to tell), and never the run's outcome: a
// webhook that fails is logged and the run ends as it would have, with its own result or error.
import { CancellationScope, isCancellation, log, patched, workflowInfo } from '@temporalio/workflow';
import type { RunContext } from '../activities/types';
import { summarizeFailure } from '../common/failure-summary';
import { failureLine, type NoticeOutcome, type RunNotice } from '../common/run-notice';
import { scoresOf } from './promotion';
import type { RunOutcome } from './run-record';
import { isCapFailure } from './run-caps';
import { steps } from './steps';

/** Marks histories whose runs with `notify` in their spec end with the notify-run activity. */
export const NOTIFY_PATCH = 'tuneforge-notify';

export interface RunEnd {
  startedAt: string;
  outcome: RunOutcome | undefined;
  failure: unknown;
  costUsd: number;
  runRecord: string | null;
}

export async function notifyRunEnd(ctx: RunContext, end: RunEnd): Promise<void> {
  const webhook = ctx.spec.notify?.webhook;
  if (webhook === undefined || !patched(NOTIFY_PATCH)) return;
  const notice = runNotice(ctx, end);
  try {
    // The summary names the outcome only: the URL (or the variable's value) never enters the history's text.
    await CancellationScope.nonCancellable(() =>
      steps.notify.notifyRun.executeWithOptions({ summary: `notify-run: tell the webhook the run ${notice.outcome}` }, [
        { webhook, notice },
      ]),
    );
  } catch (err) {
    // The failure's type only: its message is the receiver's status, but a log is no place to find out otherwise.
    log.warn('the webhook was not told of the run end; the run ends as it would have', { type: summarizeFailure(err).type });
  }
}

function runNotice(ctx: RunContext, end: RunEnd): RunNotice {
  const { workflowId } = workflowInfo();
  const { outcome, failure } = end;
  const promotion = outcome?.promotion ?? null;
  const trained = outcome?.training;
  return {
    event: 'run-ended',
    noticeId: `${workflowId}/run-ended`,
    runName: ctx.spec.name,
    workflowId,
    outcome: outcomeOf(outcome, failure),
    failure: failure === undefined ? null : failureLine(summarizeFailure(failure)),
    modelUri: outcome?.delivered.modelUri ?? null,
    scores: trained ? scoresOf(trained) : null,
    promotion,
    // A retried promote-model finds this run current already and still reports promoted: the change was this run's.
    currentModelChanged: promotion?.promoted === true,
    costUsd: end.costUsd,
    runRecord: end.runRecord,
    startedAt: end.startedAt,
    endedAt: new Date(Date.now()).toISOString(),
  };
}

function outcomeOf(outcome: RunOutcome | undefined, failure: unknown): NoticeOutcome {
  if (failure === undefined) return 'succeeded';
  if (isCancellation(failure)) return 'cancelled';
  return outcome?.cappedBy && isCapFailure(failure) ? 'capped' : 'failed';
}
