// The whole preflight of a run: the provider's account checks and the artifact bucket, shared by the
// preflight activity (the first step of an AWS run) and `tuneforge plan --check`. Read-only throughout.
import type { S3Client } from '@aws-sdk/client-s3';
import { checkBucketReadable } from '../../artifacts/bucket-check';
import type { PreflightProblem } from '../../common/errors';
import type { RunSpec } from '../../run-spec/schema';
import type { ClusterRef, PreflightCheck, Provider } from '../provider';

export interface PreflightSources {
  provider: Provider;
  s3Client: (region: string) => S3Client;
  cluster?: ClusterRef;
  signal?: AbortSignal;
}

export async function preflightReport(spec: RunSpec, sources: PreflightSources): Promise<PreflightCheck[]> {
  if (spec.provider !== 'aws') return [];
  const { provider, cluster, signal } = sources;
  const checks = provider.preflight
    ? await provider.preflight({
        settings: spec,
        nodes: spec.nodes,
        ...(cluster ? { cluster } : {}),
        ...(signal ? { signal } : {}),
      })
    : [];
  const uri = spec.artifacts.uri;
  if (uri !== undefined) {
    const region = spec.aws.region;
    const bucket = await checkBucketReadable(sources.s3Client(region), uri, region, signal);
    checks.push(
      'ok' in bucket
        ? { check: 'artifact-store', field: 'artifacts.uri', ok: true, message: bucket.ok }
        : { ...bucket, ok: false },
    );
  }
  return checks;
}

/** The checks that must stop the run, as the failure names them. */
export function preflightProblems(checks: PreflightCheck[]): PreflightProblem[] {
  return checks
    .filter((c) => c.ok === false)
    .map((c) => ({
      check: c.check,
      field: c.field,
      message: c.message,
      ...(c.needed === undefined ? {} : { needed: c.needed }),
      ...(c.available === undefined ? {} : { available: c.available }),
      fix: c.fix ?? '',
    }));
}
