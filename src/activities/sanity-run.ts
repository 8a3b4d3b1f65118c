// sanity-run: a short single-node training on the master; proves the install and gives the
// single-node throughput that scaling efficiency is measured against.
import { parseBf16Probe, type Bf16Kernels } from '../common/bf16';
import { specInvalid, trainingFailed } from '../common/errors';
import { DATA_ERROR_EXIT, trainerRefusal } from '../recipes/trainer-refusal';
import { sanityCommand } from '../recipes/launch-command';
import { REMOTE } from '../recipes/remote-paths';
import { jobLogTail } from '../remote/remote-job';
import type { RemoteShell } from '../remote/remote-shell';
import type { SshTarget } from '../remote/ssh-session';
import { targetFor, type ActivityDeps } from './deps';
import { followJob } from './follow-job';
import type { CpuInfo, NodeRecord, RunContext, SanityResult } from './types';

export interface SanityInput extends RunContext {
  master: NodeRecord;
  cpu: CpuInfo;
}

export const SANITY_JOB_ID = 'sanity';
/** The bf16 probe: a bf16 autocast Linear under ONEDNN_VERBOSE in the node's venv (recipes/common/bf16_probe.py). */
export const BF16_PROBE_COMMAND = `${REMOTE.python} ${REMOTE.recipe}/common/bf16_probe.py`;

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
      if (exitCode === DATA_ERROR_EXIT)
        throw specInvalid([trainerRefusal(await jobLogTail(deps.remote, target, SANITY_JOB_ID))]);
      if (exitCode !== 0 || !done) throw trainingFailed(exitCode, await jobLogTail(deps.remote, target, SANITY_JOB_ID));
      return {
        steps: done.global_step,
        stepsPerSecond: done.train_steps_per_second,
        samplesPerSecond: done.steady_samples_per_second ?? done.train_samples_per_second,
        firstLoss: done.first_loss ?? progress.firstLoss,
        finalLoss: done.final_loss ?? progress.loss,
        bf16: { requested: input.spec.training.bf16, kernels: await probeBf16(deps.remote, target) },
      };
    },
  };
}

/**
 * Which kernels bf16 really gets on the master. Run for every spec, bf16 or not: it costs one torch import
 * (1.5 s measured on a 2-core EPYC) and tells a user whether turning bf16 on would pay. Never fails the run:
 * a probe that gives no answer is 'unknown'.
 */
export async function probeBf16(remote: RemoteShell, target: SshTarget): Promise<Bf16Kernels> {
  try {
    const result = await remote.run(target, BF16_PROBE_COMMAND, { label: 'probe the bf16 kernels' });
    return result.exitCode === 0 ? parseBf16Probe(result.stdout) : 'unknown';
  } catch {
    return 'unknown';
  }
}
