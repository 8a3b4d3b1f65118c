// Follows a detached remote job from inside an activity (its log streamed, job-stream.ts; its end read by
// the detached-job protocol's poll): heartbeats progress, re-attaches after a worker
// restart (from the heartbeat details) or a hand-over (from the previous follower's progress), and stops
// the job only when the run is cancelled. Either to its end, or for a window after which the job is left
// running for the next follower (a workflow that continues as new hands its training job over that way).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { applyProgressEvent, emptyProgress, parseProgressLine, type TrainingProgress } from '../recipes/progress';
import { JobStream } from '../remote/job-stream';
import { killJob, pollJob, startOrAttach, type JobPoll } from '../remote/remote-job';
import type { SshTarget } from '../remote/ssh-session';
import type { ActivityDeps } from './deps';
import { LOG_UPLOAD_EVERY_MS, LogMirror } from './log-mirror';
import { ReportPacer, type ReportPace } from './report-pacer';

export interface FollowOptions {
  jobId: string;
  command: string;
  stage: string;
  /** How often progress is reported to the workflow (each report is a signal: history events). */
  pace?: ReportPace;
  /** What the previous follower of this job knew when it handed the job over. */
  handedOver?: TrainingProgress | null;
  /** Whether the job may be left running now; a window that ends while this says no is extended. */
  mayHandOver?: () => boolean;
  /**
   * Called on every pass over the job's news; throwing ends the follow (e.g. a node was lost). `urgent`: a
   * kept SSH connection dropped since the last call, so a check should not wait for its interval. It says
   * whether the worker is cut off from the whole cluster: then a failed read of the job is waited out.
   */
  watch?: (urgent: boolean) => Promise<WatchVerdict | void>;
  /** Called once for each new checkpoint the job reports, and for the last one known when re-attaching; must not block. */
  onCheckpoint?: (path: string) => void;
  /** Called with the job's progress each time new log lines were read. */
  onProgress?: (progress: TrainingProgress) => void;
  /** Copies the job's log to the store; called at most once per deps.logUploadEveryMs while the job is followed. */
  uploadLog?: () => Promise<void>;
}

export interface WatchVerdict {
  cutOff: boolean;
}

/** Failed reads of the job in a row, with the cluster answering the watch, before the follow gives up. */
const READ_FAILURES_TO_GIVE_UP = 3;

export interface FollowResult {
  exitCode: number;
  progress: TrainingProgress;
}

export type FollowOutcome = ({ kind: 'exited' } & FollowResult) | { kind: 'still-running'; progress: TrainingProgress };

/** Follows the job to its end. */
export async function followJob(deps: ActivityDeps, target: SshTarget, options: FollowOptions): Promise<FollowResult> {
  const outcome = await followJobFor(deps, target, options, Number.POSITIVE_INFINITY);
  if (outcome.kind !== 'exited') throw new Error(`job ${options.jobId} was left running by a follower without a window`);
  return outcome;
}

/** Follows the job until it ends or `windowMs` has passed; then returns with the job still running. */
export async function followJobFor(
  deps: ActivityDeps,
  target: SshTarget,
  options: FollowOptions,
  windowMs: number,
): Promise<FollowOutcome> {
  const ctx = Context.current();
  const until = Date.now() + windowMs;
  const fromHeartbeat = resumedProgress(ctx.info.heartbeatDetails, options.jobId);
  const fromHandOver = resumedProgress(options.handedOver, options.jobId);
  let progress = fromHeartbeat ?? fromHandOver ?? emptyProgress(options.jobId);
  await startOrAttach(deps.remote, target, options.jobId, options.command);
  // A worker that died mid-upload left this one unfinished; uploading again is harmless. A follower that
  // handed over settled its uploads first.
  if (fromHeartbeat?.lastCheckpoint) options.onCheckpoint?.(fromHeartbeat.lastCheckpoint);
  const pacer = new ReportPacer(Date.now(), options.pace, progress.logOffset > 0);
  // A kept connection that drops (a node killed) is worth a node check now rather than at the next tick.
  let dropSeen = false;
  let wakeOnDrop: (() => void) | undefined;
  const unsubscribe = deps.remote.onConnectionDrop?.(() => {
    dropSeen = true;
    wakeOnDrop?.();
  });
  const open = (offset: number) => new JobStream(deps.remote, target, options.jobId, offset, ctx.cancellationSignal);
  let stream = open(progress.logOffset);
  let readFailures = 0;
  const mirror = options.uploadLog
    ? new LogMirror(options.uploadLog, deps.logUploadEveryMs ?? LOG_UPLOAD_EVERY_MS, (message, error) =>
        ctx.log.warn(message, { jobId: options.jobId, error }),
      )
    : undefined;
  try {
    for (;;) {
      // Cancellation arrives with a heartbeat; a busy loop (new log lines every pass) must look for it too.
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      const urgent = dropSeen;
      dropSeen = false;
      await options.watch?.(urgent);
      let read: JobPoll;
      try {
        read = await readJob(deps, target, options.jobId, stream);
        readFailures = 0;
      } catch (err) {
        // The watch tells a lost node (it throws NodeLost) from the worker's own outage (no node answers):
        // an outage is waited out with the job left running, however long it lasts.
        if (!options.watch || err instanceof ApplicationFailure) throw err;
        const verdict = await options.watch(true);
        if (!verdict?.cutOff && ++readFailures >= READ_FAILURES_TO_GIVE_UP) throw err;
        ctx.heartbeat(progress);
        await ctx.sleep(deps.pollIntervalMs);
        stream.stop();
        stream = open(progress.logOffset);
        continue;
      }
      const reopened = read.state.kind === 'running' && stream.done;
      if (reopened) stream = open(read.nextOffset);
      const checkpointBefore = progress.lastCheckpoint;
      const stepBefore = progress.step;
      for (const line of read.lines) {
        const event = parseProgressLine(line);
        if (event) progress = applyProgressEvent(progress, event);
      }
      const madeProgress = read.nextOffset !== progress.logOffset;
      progress = { ...progress, logOffset: read.nextOffset };
      ctx.heartbeat(progress);
      if (madeProgress) options.onProgress?.(progress);
      const checkpoint = progress.lastCheckpoint;
      if (checkpoint && checkpoint !== checkpointBefore) options.onCheckpoint?.(checkpoint);
      const now = Date.now();
      mirror?.tick(now);
      const { state } = read;
      // The job's first trained step is reported at once: it says how long a restart took.
      const firstStep = stepBefore <= progress.resumedStep && progress.step > progress.resumedStep;
      if (pacer.due(now) || firstStep || state.kind === 'exited') {
        pacer.reported(now);
        await report(deps, ctx, options.stage, progress);
      }
      if (state.kind === 'exited' && !madeProgress) return { kind: 'exited', exitCode: state.exitCode, progress };
      if (state.kind === 'vanished') {
        throw ApplicationFailure.retryable(`job ${options.jobId} vanished without an exit status`, 'JobVanished');
      }
      if (state.kind === 'running' && now >= until && (options.mayHandOver?.() ?? true)) {
        await report(deps, ctx, options.stage, progress);
        return { kind: 'still-running', progress };
      }
      if (madeProgress) continue;
      // A stream that broke is reopened, but waited on only from the next pass: one that cannot stay open
      // (no `tail` there, a node refusing channels) degrades to a poll per interval instead of a busy loop.
      const dropped = new Promise<void>((resolve) => {
        wakeOnDrop = resolve;
        if (dropSeen) resolve();
      });
      await Promise.race([ctx.sleep(deps.pollIntervalMs), dropped, ...(reopened ? [] : [stream.changed()])]);
      wakeOnDrop = undefined;
    }
  } catch (err) {
    if (ctx.cancellationDetails?.cancelRequested) {
      await killJob(deps.remote, target, options.jobId).catch((killError: unknown) => {
        ctx.log.warn('could not stop the remote job of a cancelled step', { jobId: options.jobId, error: String(killError) });
      });
    }
    throw err;
  } finally {
    stream.stop();
    unsubscribe?.();
    await mirror?.settle();
  }
}

/**
 * What the stream brought; once it has ended (the job's process gone, or the connection), a poll reads
 * the job's state by the detached-job protocol (its exit status) and any lines the stream did not deliver.
 */
async function readJob(deps: ActivityDeps, target: SshTarget, jobId: string, stream: JobStream): Promise<JobPoll> {
  const ended = stream.done;
  const streamed = stream.take();
  if (!ended) return { state: { kind: 'running' }, ...streamed };
  const poll = await pollJob(deps.remote, target, jobId, streamed.nextOffset);
  return { state: poll.state, lines: [...streamed.lines, ...poll.lines], nextOffset: poll.nextOffset };
}

function resumedProgress(details: unknown, jobId: string): TrainingProgress | undefined {
  const previous = details as Partial<TrainingProgress> | null | undefined;
  return previous && previous.jobId === jobId ? { ...emptyProgress(jobId), ...previous } : undefined;
}

async function report(deps: ActivityDeps, ctx: Context, stage: string, progress: TrainingProgress): Promise<void> {
  const workflowId = ctx.info.workflowExecution?.workflowId;
  if (!workflowId) return;
  try {
    await deps.reportProgress(workflowId, {
      stage,
      step: progress.step,
      maxSteps: progress.maxSteps,
      loss: progress.loss,
      lastCheckpoint: progress.lastCheckpoint,
      jobId: progress.jobId,
      resumedStep: progress.resumedStep,
    });
  } catch (err) {
    // Progress is informational; a failed report must not fail the training.
    ctx.log.warn('could not report progress to the workflow', { error: String(err) });
  }
}
