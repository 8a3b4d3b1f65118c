// `tuneforge plan --check <spec.yaml>`: the run's preflight from this machine, read-only (Service Quotas,
// EC2 describe calls, HeadBucket on the artifact bucket): what the preflight step would decide, before a start.
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../artifacts/s3-client';
import { createAwsProvider } from '../../providers/aws';
import { preflightReport } from '../../providers/aws/preflight-report';
import { routeByProvider, type SpecOf } from '../../providers/capabilities';
import type { PreflightCheck, Provider } from '../../providers/provider';
import { loadRunSpec } from '../../run-spec/load';

export interface PlanCheckResult {
  /** False when any check failed: the run would stop at preflight. */
  ok: boolean;
  checks: PlanCheckLine[];
}

export type PlanCheckLine = Omit<PreflightCheck, 'ok'> & { result: 'passed' | 'failed' | 'unchecked' };

export interface PlanCheckSources {
  /** The EC2 provider of the spec's region; default: one from the environment's credentials and endpoints. */
  provider?: (region: string) => Provider;
  s3Client?: (region: string) => S3Client;
}

export async function planCheck(specPath: string, sources: PlanCheckSources = {}): Promise<PlanCheckResult> {
  const spec = await loadRunSpec(specPath);
  return routeByProvider<Promise<PlanCheckResult>>(spec, {
    local: async () => ({
      ok: true,
      checks: [{ check: 'provider', field: 'provider', result: 'unchecked', message: 'local runs have no preflight' }],
    }),
    aws: (aws) => awsPlanCheck(aws, sources),
  });
}

async function awsPlanCheck(spec: SpecOf<'aws'>, sources: PlanCheckSources): Promise<PlanCheckResult> {
  const provider = (sources.provider ?? ((region: string) => createAwsProvider({ region })))(spec.aws.region);
  const checks = await preflightReport(spec, { provider, s3Client: sources.s3Client ?? createS3Client });
  const lines = checks.map(({ ok, ...rest }): PlanCheckLine => ({
    ...rest,
    result: ok === true ? 'passed' : ok === false ? 'failed' : 'unchecked',
  }));
  return { ok: checks.every((c) => c.ok !== false), checks: lines };
}

const MARK: Record<PlanCheckLine['result'], string> = { passed: 'ok  ', failed: 'FAIL', unchecked: '??  ' };

export function formatPlanCheck(result: PlanCheckResult): string {
  const lines = result.checks.flatMap((c) => [
    `${MARK[c.result]} ${c.check} (${c.field}): ${c.message}`,
    ...(c.result === 'failed' && c.fix ? [`     fix: ${c.fix}`] : []),
  ]);
  const verdict = result.ok
    ? 'preflight passed: the run may start'
    : 'preflight failed: the run would stop before creating anything';
  return ['Preflight', ...lines, verdict].join('\n');
}
