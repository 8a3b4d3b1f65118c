// The one follower behind `tuneforge watch` and `start --follow`: polls a run's status and progress until it
// ends, hands each view to a renderer, and returns the summary or throws the run's WorkflowFailedError (the
// entrypoint maps it to the exit code). The handle names the workflow id only, never a run id, so the follower
// stays with a run that continues as new: status, queries and the result always reach its latest execution.
import { setTimeout as sleep } from 'node:timers/promises';
import { summarizeFailure } from '../../common/failure-summary';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { progressQuery, type RunProgress, type RunSummary } from '../../workflows/definitions';
import type { fineTune } from '../../workflows/fine-tune';
import { StepRate } from '../render/rate';
import type { WatchEnd, WatchFailure, WatchRenderer, WatchUpdate } from '../render/update';

export const DEFAULT_INTERVAL_MS = 1000;
export const MIN_INTERVAL_MS = 100;
/** A run whose worker is down makes a query wait 30 s; give up sooner and show the last known state. */
export const QUERY_TIMEOUT_MS = 3000;

export interface FollowOptions {
  intervalMs: number;
  now?: () => number;
}

type Settled = { ok: true; value: RunSummary } | { ok: false; error: unknown };
type RunHandle = WorkflowHandle<typeof fineTune>;

export async function followRun(
  client: Client,
  workflowId: string,
  options: FollowOptions,
  renderer: WatchRenderer,
): Promise<RunSummary> {
  const handle: RunHandle = client.workflow.getHandle<typeof fineTune>(workflowId);
  const poller = new Poller(client, handle, options.now ?? Date.now);
  renderer.update(await poller.poll()); // a missing run ends here with WorkflowNotFoundError
  const result: Promise<Settled> = handle.result().then(
    (value): Settled => ({ ok: true, value }),
    (error: unknown): Settled => ({ ok: false, error }),
  );
  while (!(await settledWithin(result, options.intervalMs))) renderer.update(await poller.poll());
  const outcome = await result;
  const last = await poller.poll({ final: true });
  renderer.end(endRecord(workflowId, last.status, outcome), last);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

async function settledWithin(result: Promise<Settled>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const waited = sleep(ms, false, { signal: timer.signal }).catch(() => false);
  const settled = await Promise.race([result.then(() => true), waited]);
  timer.abort();
  return settled;
}

/** Keeps the last answered progress and the step rate between polls. */
class Poller {
  private progress: RunProgress | null = null;
  private answeredAt: string | null = null;
  private lastAnswered = false;
  private readonly rate = new StepRate();

  constructor(
    private readonly client: Client,
    private readonly handle: RunHandle,
    private readonly now: () => number,
  ) {}

  /** The final poll asks again only if the previous one was answered: a run nobody answered for won't be now. */
  async poll(options: { final?: boolean } = {}): Promise<WatchUpdate> {
    const description = await this.handle.describe();
    const answer = options.final && !this.lastAnswered ? undefined : await this.query();
    this.lastAnswered = answer !== undefined;
    const nowMs = this.now();
    if (answer) {
      this.progress = answer;
      this.answeredAt = new Date(nowMs).toISOString();
      this.rate.observe(answer.training, nowMs);
    }
    const status = description.status.name;
    // An ended run has no ETA; its last training report stays as it was.
    const rate = status === 'RUNNING' ? this.rate.estimate(this.progress?.training ?? null, nowMs) : undefined;
    return {
      workflowId: this.handle.workflowId,
      status,
      progress: this.progress,
      answered: answer !== undefined,
      answeredAt: this.answeredAt,
      rate: rate ?? null,
    };
  }

  private async query(): Promise<RunProgress | undefined> {
    try {
      return await this.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => this.handle.query(progressQuery));
    } catch {
      // No worker up, the query timed out, or the run failed before it registered its handler: keep the last state.
      return undefined;
    }
  }
}

function endRecord(workflowId: string, status: string, outcome: Settled): WatchEnd {
  if (outcome.ok) return { workflowId, status, summary: outcome.value };
  return { workflowId, status, failure: describeFailure(outcome.error) };
}

export function describeFailure(err: unknown): WatchFailure {
  return summarizeFailure(err);
}

/** The --interval option: whole milliseconds, at least MIN_INTERVAL_MS. */
export function parseInterval(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < MIN_INTERVAL_MS)
    throw new RangeError(`--interval takes whole milliseconds, at least ${MIN_INTERVAL_MS} (got ${JSON.stringify(value)})`);
  return ms;
}
