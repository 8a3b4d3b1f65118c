// Runs a detached remote job to its end from inside an activity: heartbeats progress, re-attaches after
// a worker restart (from the heartbeat details), and stops the job only when the run is cancelled.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { applyProgressEvent, emptyProgress, parseProgressLine, type TrainingProgress } from '../recipes/progress';
import { killJob, pollJob, startOrAttach } from '../remote/remote-job';
import type { SshTarget } from '../remote/ssh-session';
import type { ActivityDeps } from './deps';

export interface FollowOptions {
  jobId: string;
  command: string;
  stage: string;
  /** Report progress to the workflow at most this often. */
  reportEveryMs?: number;
  /** Called on every poll; throwing ends the follow (e.g. a node was lost). */
  watch?: () => Promise<void>;
  /** Called once for each new checkpoint the job reports, and for the last one known when re-attaching; must not block. */
  onCheckpoint?: (path: string) => void;
}

export interface FollowResult {
  exitCode: number;
  progress: TrainingProgress;
}

const DEFAULT_REPORT_EVERY_MS = 10_000;

export async function followJob(deps: ActivityDeps, target: SshTarget, options: FollowOptions): Promise<FollowResult> {
  const ctx = Context.current();
  let progress = resumedProgress(ctx.info.heartbeatDetails, options.jobId);
  await startOrAttach(deps.remote, target, options.jobId, options.command);
  // A worker that died mid-upload left this one unfinished; uploading again is harmless.
  if (progress.lastCheckpoint) options.onCheckpoint?.(progress.lastCheckpoint);
  let lastReport = 0;
  try {
    for (;;) {
      // Cancellation arrives with a heartbeat; a busy loop (new log lines every poll) must look for it too.
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      await options.watch?.();
      const poll = await pollJob(deps.remote, target, options.jobId, progress.logOffset);
      const checkpointBefore = progress.lastCheckpoint;
      for (const line of poll.lines) {
        const event = parseProgressLine(line);
        if (event) progress = applyProgressEvent(progress, event);
      }
      const madeProgress = poll.nextOffset !== progress.logOffset;
      progress = { ...progress, logOffset: poll.nextOffset };
      ctx.heartbeat(progress);
      const checkpoint = progress.lastCheckpoint;
      if (checkpoint && checkpoint !== checkpointBefore) options.onCheckpoint?.(checkpoint);
      if (Date.now() - lastReport >= (options.reportEveryMs ?? DEFAULT_REPORT_EVERY_MS) || poll.state.kind === 'exited') {
        lastReport = Date.now();
        await report(deps, ctx, options.stage, progress);
      }
      if (poll.state.kind === 'exited' && !madeProgress) return { exitCode: poll.state.exitCode, progress };
      if (poll.state.kind === 'vanished') {
        throw ApplicationFailure.retryable(`job ${options.jobId} vanished without an exit status`, 'JobVanished');
      }
      if (!madeProgress) await ctx.sleep(deps.pollIntervalMs);
    }
  } catch (err) {
    if (ctx.cancellationDetails?.cancelRequested) {
      await killJob(deps.remote, target, options.jobId).catch((killError: unknown) => {
        ctx.log.warn('could not stop the remote job of a cancelled step', { jobId: options.jobId, error: String(killError) });
      });
    }
    throw err;
  }
}

function resumedProgress(details: unknown, jobId: string): TrainingProgress {
  const previous = details as Partial<TrainingProgress> | undefined;
  return previous && previous.jobId === jobId ? { ...emptyProgress(jobId), ...previous } : emptyProgress(jobId);
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
    });
  } catch (err) {
    // Progress is informational; a failed report must not fail the training.
    ctx.log.warn('could not report progress to the workflow', { error: String(err) });
  }
}
