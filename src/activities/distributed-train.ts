// distributed-train: mpirun from the master over the cluster's own SSH, ranks on every node, run as a
// detached job that a restarted worker re-attaches to; resumes from the newest complete checkpoint.
// A node lost mid-run (gone, stopped or frozen) ends the step with NodeLost naming it; a spot notice
// first has every rank save at the next step boundary and stop, then ends the step the same way.
import { Context } from '@temporalio/activity';
import { nodeLost, trainingFailed } from '../common/errors';
import { distributedCommand, placement } from '../recipes/launch-command';
import { evalScoresOf, runMetricsOf } from '../recipes/progress';
import { jobDir, jobLogTail, killJob } from '../remote/remote-job';
import { checkpointUploader } from './checkpoint-uploads';
import { endpointFor, runStore, targetFor, type ActivityDeps } from './deps';
import type { TrainingProgress } from '../recipes/progress';
import { followJobFor, type FollowOutcome, type WatchVerdict } from './follow-job';
import { keepAlive } from './keep-alive';
import { NodeWatch, nodeWatcher, type NodeHealth } from './node-watch';
import { rankSignaller, type SignalFailure } from './rank-signals';
import type { TrainingHandOver, TrainingStopped, TrainInput, TrainResult } from './types';
import { uploadNodeLogs, workerSecrets } from './upload-logs';

/** mpirun waits on daemons of a frozen node when asked to stop; do not give it long. */
const LOST_NODE_KILL_GRACE_SECONDS = 2;

export function createTrainActivities(deps: ActivityDeps) {
  return {
    async distributedTrain(input: TrainInput): Promise<TrainResult | TrainingHandOver | TrainingStopped> {
      const [master] = input.nodes;
      if (!master) throw new Error('distributed-train needs the master first in its node list');
      const target = await targetFor(deps, input, master);
      const command = distributedCommand({
        spec: input.spec,
        cluster: input.cluster,
        nodes: input.nodes,
        placement: placement(input.spec, input.cluster, input.cpu, input.nodes.length),
        jobDir: jobDir(input.jobId),
        ...(input.hubData ? { datasetRevision: input.hubData.commit } : {}),
      });
      const nodeWatch = new NodeWatch(deps, input, input.nodes, input.cluster);
      // What the job's log showed last: a loss reports it, so the workflow can say how many steps are trained again.
      let lastStep: number | undefined = input.handedOver?.step;
      let latest: TrainingProgress | undefined = input.handedOver ?? undefined;
      // After the job failed, decide for good: a node in doubt is probed until it is lost or answers,
      // which on aws can outlast the heartbeat timeout. The job is over, so no progress to carry.
      const check = () => keepAlive(() => nodeWatch.confirm());
      const stopAndReport = async (lost: string[]): Promise<never> => {
        // The survivors' ranks would wait on the lost ones; stop the job before the workflow replaces nodes.
        if (!lost.includes(master.name))
          await killJob(deps.remote, target, input.jobId, LOST_NODE_KILL_GRACE_SECONDS).catch(() => undefined);
        throw nodeLost(lost, 'gone, stopped or not answering SSH during distributed-train', lastStep);
      };
      const reportSignal = ({ node, signal, reason }: SignalFailure) =>
        Context.current().log.warn('could not signal the ranks; trying again at the next watch', { node, signal, reason });
      const stopRanks = rankSignaller(deps, input, input.nodes, 'TERM', reportSignal);
      const finishRanks = rankSignaller(deps, input, input.nodes, 'USR2', reportSignal);
      let noticed: string[] = [];
      let cutOffSince: number | undefined;
      const onHealth = async (health: NodeHealth): Promise<void> => {
        if (health.unreachableSince !== cutOffSince) {
          const log = Context.current().log;
          if (health.unreachableSince === undefined) {
            log.info('the worker reaches the cluster again; nothing was replaced');
            // The last progress again, without the note: the Web UI's details drop it at once.
            if (latest) await reportOutage(deps, input, latest);
          } else if (cutOffSince === undefined) {
            const note = `the worker cannot reach the cluster since ${new Date(health.unreachableSince).toISOString()}: no node answers, so none is replaced; the job trains on`;
            log.warn(note);
            await reportOutage(deps, input, note);
          }
          cutOffSince = health.unreachableSince;
        }
        if (health.lost.length > 0) await stopAndReport(health.lost);
        if (health.noticed.length > 0 && noticed.length === 0) {
          noticed = health.noticed;
          await stopRanks.sendPending();
        }
      };
      // Decided once the deadline passes (from then on this follower sees the job to its end); the signal itself
      // is resent at every watch to the nodes that have not had it.
      let finishing = false;
      const watchNodes = nodeWatcher(() => nodeWatch.check(), onHealth, nodeWatch.policy.everyMs);
      const watch = async (urgent: boolean): Promise<WatchVerdict> => {
        if (input.finishBy !== undefined && Date.now() >= Date.parse(input.finishBy)) finishing = true;
        if (finishing) await finishRanks.sendPending();
        if (noticed.length > 0 || input.saveAndStop) await stopRanks.sendPending();
        await watchNodes(urgent);
        return { cutOff: cutOffSince !== undefined };
      };
      const masterEndpoint = await endpointFor(deps, input, master);
      const uploads = checkpointUploader(runStore(deps, input), masterEndpoint);
      // The training log in the store while it runs (`tuneforge logs --follow`); upload-logs takes every node's at the end.
      const uploadLog = async () => {
        await uploadNodeLogs(runStore(deps, input), masterEndpoint, workerSecrets(deps), [input.jobId]);
      };
      let followed: FollowOutcome;
      const windowMs = input.followForSeconds === undefined ? Number.POSITIVE_INFINITY : input.followForSeconds * 1000;
      try {
        followed = await followJobFor(
          deps,
          target,
          {
            jobId: input.jobId,
            command,
            stage: 'distributed-train',
            handedOver: input.handedOver,
            watch,
            onCheckpoint: (path) => uploads.enqueue(path),
            onProgress: (progress) => {
              lastStep = progress.step;
              latest = progress;
            },
            uploadLog,
            // Ranks told to save and stop, or to finish, are followed to their end by the follower that told them.
            mayHandOver: () => noticed.length === 0 && !finishing && !input.saveAndStop,
          },
          windowMs,
        );
      } catch (err) {
        if (Context.current().cancellationDetails?.cancelRequested) throw err;
        const { lost } = await check();
        if (lost.length > 0) await stopAndReport(lost);
        throw err;
      }
      if (followed.kind === 'still-running') {
        // The next follower re-attaches to the same job; what is stored must not depend on this one.
        await keepAlive(
          () => uploads.settle(),
          () => followed.progress,
        );
        return { stillRunning: true, progress: followed.progress };
      }
      const { exitCode, progress } = followed;
      if (noticed.length > 0) {
        throw nodeLost(noticed, `spot interruption notice; every rank saved at step ${progress.step} and stopped`, progress.step);
      }
      const done = progress.done;
      if (input.saveAndStop && !done && progress.lastCheckpoint !== null) {
        // Told to save and stop so the run can grow: the checkpoint the ranks saved must be in the store first.
        await keepAlive(
          () => uploads.settle(),
          () => progress,
        );
        return { stopped: true, progress };
      }
      if (exitCode !== 0 || !done) {
        const { lost } = await check();
        if (lost.length > 0) await stopAndReport(lost);
        throw trainingFailed(exitCode, await jobLogTail(deps.remote, target, input.jobId));
      }
      // The final checkpoint in the store is what a master lost before the model upload resumes from.
      await keepAlive(
        () => uploads.settle(),
        () => progress,
      );
      return {
        globalStep: done.global_step,
        worldSize: progress.worldSize,
        firstLoss: done.first_loss ?? progress.firstLoss,
        finalLoss: done.final_loss ?? progress.loss,
        evalLoss: done.eval_loss,
        samplesPerSecond: done.steady_samples_per_second ?? done.train_samples_per_second,
        stepsPerSecond: done.train_steps_per_second,
        runtimeSeconds: done.train_runtime,
        lastCheckpoint: progress.lastCheckpoint,
        resumedStep: progress.resumedStep,
        epochs: progress.epoch,
        eval: evalScoresOf(done),
        metrics: runMetricsOf(done),
        finishedEarly: done.finished_early === true,
      };
    },
  };
}

/**
 * Tells the workflow the worker is cut off from the cluster (a note in the Web UI's details and `status`), or,
 * given the job's progress, that it is back. Informational: a report that fails changes nothing.
 */
async function reportOutage(deps: ActivityDeps, input: TrainInput, noteOrProgress: string | TrainingProgress): Promise<void> {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (!workflowId) return;
  const update =
    typeof noteOrProgress === 'string'
      ? { stage: 'distributed-train', step: 0, maxSteps: 0, loss: null, lastCheckpoint: null, message: noteOrProgress }
      : {
          stage: 'distributed-train',
          step: noteOrProgress.step,
          maxSteps: noteOrProgress.maxSteps,
          loss: noteOrProgress.loss,
          lastCheckpoint: noteOrProgress.lastCheckpoint,
          jobId: input.jobId,
          resumedStep: noteOrProgress.resumedStep,
        };
  await deps.reportProgress(workflowId, update).catch(() => undefined);
}
