// distributed-train: mpirun from the master over the cluster's own SSH, ranks on every node, run as a
// detached job that a restarted worker re-attaches to; resumes from the newest complete checkpoint.
// A node that is lost mid-run (gone, stopped or frozen) ends the step with NodeLost naming it.
import { Context } from '@temporalio/activity';
import { nodeLost, trainingFailed } from '../common/errors';
import { distributedCommand, placement } from '../recipes/launch-command';
import { jobDir, jobLogTail, killJob } from '../remote/remote-job';
import { targetFor, type ActivityDeps } from './deps';
import { followJob, type FollowResult } from './follow-job';
import { lostNodes, nodeWatcher } from './node-watch';
import type { TrainInput, TrainResult } from './types';

export function createTrainActivities(deps: ActivityDeps) {
  return {
    async distributedTrain(input: TrainInput): Promise<TrainResult> {
      const [master] = input.nodes;
      if (!master) throw new Error('distributed-train needs the master first in its node list');
      const target = await targetFor(deps, input, master);
      const command = distributedCommand({
        spec: input.spec,
        cluster: input.cluster,
        nodes: input.nodes,
        placement: placement(input.spec, input.cluster, input.cpu, input.nodes.length),
        jobDir: jobDir(input.jobId),
      });
      const checkNodes = () => lostNodes(deps, input, input.nodes);
      const stopAndReport = async (lost: string[]): Promise<never> => {
        // The survivors' ranks would wait on the lost ones; stop the job before the workflow replaces nodes.
        if (!lost.includes(master.name)) await killJob(deps.remote, target, input.jobId).catch(() => undefined);
        throw nodeLost(lost, 'gone, stopped or not answering SSH during distributed-train');
      };
      let followed: FollowResult;
      try {
        followed = await followJob(deps, target, {
          jobId: input.jobId,
          command,
          stage: 'distributed-train',
          watch: nodeWatcher(checkNodes, stopAndReport),
        });
      } catch (err) {
        if (Context.current().cancellationDetails?.cancelRequested) throw err;
        const lost = await checkNodes();
        if (lost.length > 0) await stopAndReport(lost);
        throw err;
      }
      const { exitCode, progress } = followed;
      const done = progress.done;
      if (exitCode !== 0 || !done) {
        const lost = await checkNodes();
        if (lost.length > 0) await stopAndReport(lost);
        throw trainingFailed(exitCode, await jobLogTail(deps.remote, target, input.jobId));
      }
      return {
        globalStep: done.global_step,
        worldSize: progress.worldSize,
        firstLoss: done.first_loss ?? progress.firstLoss,
        finalLoss: done.final_loss ?? progress.loss,
        evalLoss: done.eval_loss,
        samplesPerSecond: done.train_samples_per_second,
        stepsPerSecond: done.train_steps_per_second,
        runtimeSeconds: done.train_runtime,
        lastCheckpoint: progress.lastCheckpoint,
        resumedStep: progress.resumedStep,
        epochs: progress.epoch,
      };
    },
  };
}
