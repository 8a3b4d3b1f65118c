// A read-only look at a run's S3 bucket (HeadBucket) for preflight, and what an unreachable endpoint means:
// a DNS name that does not resolve or a refused connection will not heal by retrying for 35 s, so it is
// named at once with the spec field, the endpoint and the cause.
import { HeadBucketCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { PreflightProblem } from '../common/errors';
import { parseArtifactUri } from './artifact-uri';

const FIELD = 'artifacts.uri';
const CHECK_TIMEOUT_MS = 15_000;

/** Network errors that say the endpoint is wrong or absent, not busy. */
const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const own = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const cause =
    error.cause instanceof Error && 'code' in error.cause && typeof error.cause.code === 'string' ? error.cause.code : undefined;
  return own ?? cause;
}

/** The S3 endpoint a request went to: the host the error names, else the client's endpoint. */
async function endpointOf(client: S3Client, error: unknown): Promise<string> {
  const hostname =
    error instanceof Error && 'hostname' in error && typeof error.hostname === 'string' ? error.hostname : undefined;
  if (hostname) return hostname;
  const custom = client.config.endpoint ? await client.config.endpoint() : undefined;
  if (custom) return `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}`;
  return `s3.${await client.config.region()}.amazonaws.com`;
}

/** The problem when `error` says the S3 endpoint cannot be reached at all; undefined for every other error. */
export async function unreachableStore(client: S3Client, uri: string, error: unknown): Promise<PreflightProblem | undefined> {
  const code = errorCode(error);
  if (code === undefined || !UNREACHABLE_CODES.has(code)) return undefined;
  const endpoint = await endpointOf(client, error);
  return {
    check: 'artifact-store',
    field: FIELD,
    message: `${uri} cannot be reached: the S3 endpoint ${endpoint} failed with ${code} (${error instanceof Error ? error.message : String(error)}).`,
    fix: "Check the bucket name in artifacts.uri, the worker's network and DNS, and AWS_ENDPOINT_URL_S3 when an S3-compatible store is meant.",
  };
}

/** HeadBucket with a deadline: the bucket exists, is in the run's region and this worker may list it. */
export async function checkBucketReadable(
  client: S3Client,
  uri: string,
  region: string,
  signal?: AbortSignal,
): Promise<PreflightProblem | { ok: string }> {
  const location = parseArtifactUri(uri);
  if (location.kind === 'file') return { ok: `${uri} is a folder` };
  const base = { check: 'artifact-store', field: FIELD };
  const timeout = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    const answer = await client.send(new HeadBucketCommand({ Bucket: location.bucket }), {
      abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const found = answer.BucketRegion;
    if (found && found !== region) {
      return {
        ...base,
        message: `bucket ${location.bucket} is in ${found}, but the run is in ${region}.`,
        fix: `Use a bucket in ${region}.`,
      };
    }
    return { ok: `bucket ${location.bucket} answers${found ? ` (${found})` : ''}` };
  } catch (error) {
    signal?.throwIfAborted();
    const unreachable = await unreachableStore(client, uri, error);
    if (unreachable) return unreachable;
    if (timeout.aborted) {
      return {
        ...base,
        message: `${uri}: S3 (${await endpointOf(client, error)}) did not answer within ${CHECK_TIMEOUT_MS / 1000} s.`,
        fix: "Check the worker's network.",
      };
    }
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status === 404)
      return {
        ...base,
        message: `bucket ${location.bucket} does not exist.`,
        fix: `Create it ("aws s3 mb s3://${location.bucket} --region ${region}") or fix artifacts.uri.`,
      };
    if (status === 403)
      return {
        ...base,
        message: `this worker may not list bucket ${location.bucket}.`,
        fix: 'Grant the S3 actions of docs/iam-policy.json on the bucket.',
      };
    if (status === 301)
      return { ...base, message: `bucket ${location.bucket} is not in ${region}.`, fix: `Use a bucket in ${region}.` };
    throw error;
  }
}
