// sanity-run: a short single-node training on the master; proves the install and gives the
// single-node throughput that scaling efficiency is measured against.
import { specInvalid, trainingFailed } from '../common/errors';
import { TRAINER_DATA_ERROR_EXIT, trainerRefusal } from '../recipes/trainer-refusal';
import { sanityCommand } from '../recipes/launch-command';
import { jobLogTail } from '../remote/remote-job';
import { targetFor, type ActivityDeps } from './deps';
import { followJob } from './follow-job';
import type { CpuInfo, NodeRecord, RunContext, SanityResult } from './types';

export interface SanityInput extends RunContext {
  master: NodeRecord;
  cpu: CpuInfo;
}

export const SANITY_JOB_ID = 'sanity';

export function createSanityActivities(deps: ActivityDeps) {
  return {
    async sanityRun(input: SanityInput): Promise<SanityResult> {
      const target = await targetFor(deps, input, input.master);
      const { exitCode, progress } = await followJob(deps, target, {
        jobId: SANITY_JOB_ID,
        command: sanityCommand(input.spec, input.cpu, input.hubData?.commit),
        stage: 'sanity-run',
      });
      const done = progress.done;
      if (exitCode === TRAINER_DATA_ERROR_EXIT)
        throw specInvalid([trainerRefusal(await jobLogTail(deps.remote, target, SANITY_JOB_ID))]);
      if (exitCode !== 0 || !done) throw trainingFailed(exitCode, await jobLogTail(deps.remote, target, SANITY_JOB_ID));
      return {
        steps: done.global_step,
        stepsPerSecond: done.train_steps_per_second,
        samplesPerSecond: done.steady_samples_per_second ?? done.train_samples_per_second,
        firstLoss: done.first_loss ?? progress.firstLoss,
        finalLoss: done.final_loss ?? progress.loss,
      };
    },
  };
}
