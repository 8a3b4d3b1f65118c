// distributed-train: mpirun from the master over the cluster's own SSH, ranks on every node, run as a
// detached job that a restarted worker re-attaches to; resumes from the newest complete checkpoint.
import { trainingFailed } from '../common/errors';
import { distributedCommand, placement } from '../recipes/launch-command';
import { jobDir, jobLogTail } from '../remote/remote-job';
import { targetFor, type ActivityDeps } from './deps';
import { followJob } from './follow-job';
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
      const { exitCode, progress } = await followJob(deps, target, { jobId: input.jobId, command, stage: 'distributed-train' });
      const done = progress.done;
      if (exitCode !== 0 || !done) throw trainingFailed(exitCode, await jobLogTail(deps.remote, target, input.jobId));
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
