// preflight: the first step of an AWS run, before provision-master creates anything. Read-only: quota
// against the vCPUs in use plus the cluster's need, instance types offered in the zones, base image, key
// files, artifact bucket. Any failure ends the run at once (PreflightFailed, not retried).
import { createS3Client } from '../artifacts/s3-client';
import { preflightFailed } from '../common/errors';
import { preflightProblems, preflightReport } from '../providers/aws/preflight-report';
import type { PreflightCheck } from '../providers/provider';
import { activitySignal, clusterRef, type ActivityDeps } from './deps';
import type { RunContext } from './types';

export function createPreflightActivities(deps: ActivityDeps) {
  return {
    async preflight(ctx: RunContext): Promise<PreflightCheck[]> {
      const signal = activitySignal();
      const checks = await preflightReport(ctx.spec, {
        provider: deps.providerFor(ctx.spec),
        s3Client: deps.s3Client ?? createS3Client,
        cluster: clusterRef(ctx),
        ...(signal ? { signal } : {}),
      });
      const problems = preflightProblems(checks);
      if (problems.length > 0) throw preflightFailed(problems);
      return checks;
    },
  };
}
