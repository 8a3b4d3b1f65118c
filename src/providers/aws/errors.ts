// The one place that says what an EC2 error means: retry it, fail over, re-read, or give up.
// Errors are recognised by their code (the SDK error's `name`) and HTTP status, never by message text.
import type { ApplicationFailure } from '@temporalio/common';
import { authFailed } from '../../common/errors';
import { QUOTA_CODES } from './quotas';

export type Ec2ErrorKind =
  /** Throttling, 5xx or a dropped connection: the same call may succeed later. */
  | 'retryable'
  /** No capacity for this type/zone/market: fail over to the next placement. */
  | 'capacity'
  /** An account quota (vCPUs, spot requests) is used up: no placement helps until it is raised. */
  | 'quota'
  /** The AMI does not exist or is no longer available. */
  | 'image-missing'
  /** Credentials are rejected or lack a permission. */
  | 'auth'
  /** The resource already exists: re-read it and carry on. */
  | 'duplicate'
  /** The resource is already gone: carry on. */
  | 'not-found'
  /** Something still uses the resource (e.g. a group with instances shutting down). */
  | 'dependency'
  /** A client token was reused with different parameters. */
  | 'idempotency-mismatch'
  | 'fatal';

const CAPACITY_CODES = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientCapacity',
  'SpotMaxPriceTooLow',
  'Unsupported',
]);

const RETRYABLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'EC2ThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'TimeoutError']);

const AUTH_CODES = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'OptInRequired',
]);

interface ErrorShape {
  code: string;
  httpStatus: number | undefined;
}

function describe(error: unknown): ErrorShape | undefined {
  if (!(error instanceof Error)) return undefined;
  const metadata = '$metadata' in error && typeof error.$metadata === 'object' && error.$metadata !== null ? error.$metadata : {};
  const status = 'httpStatusCode' in metadata ? metadata.httpStatusCode : undefined;
  const httpStatus = typeof status === 'number' ? status : undefined;
  // SDK service errors carry the EC2 code as `name`; Node network errors carry it as `code`.
  const code = 'code' in error && typeof error.code === 'string' ? error.code : error.name;
  return { code, httpStatus };
}

/** The EC2 error code ("InvalidGroup.NotFound"), or undefined for non-errors. */
export function ec2ErrorCode(error: unknown): string | undefined {
  return describe(error)?.code;
}

export function classifyEc2Error(error: unknown): Ec2ErrorKind {
  const shape = describe(error);
  if (shape === undefined) return 'fatal';
  const { code, httpStatus } = shape;
  // Capacity errors come back as HTTP 500, so they must be checked before the 5xx rule.
  if (CAPACITY_CODES.has(code)) return 'capacity';
  if (QUOTA_CODES.has(code)) return 'quota';
  if (code.startsWith('InvalidAMIID.')) return 'image-missing';
  if (AUTH_CODES.has(code)) return 'auth';
  if (code.endsWith('.Duplicate')) return 'duplicate';
  if (code.endsWith('.NotFound')) return 'not-found';
  if (code === 'DependencyViolation') return 'dependency';
  if (code === 'IdempotentParameterMismatch') return 'idempotency-mismatch';
  if (RETRYABLE_CODES.has(code) || NETWORK_CODES.has(code)) return 'retryable';
  if (httpStatus !== undefined && httpStatus >= 500) return 'retryable';
  return 'fatal';
}

export function isEc2Error(error: unknown, ...kinds: Ec2ErrorKind[]): boolean {
  return kinds.includes(classifyEc2Error(error));
}

/** AuthFailed for the EC2 API: which action failed, and where to find the permissions it needs. */
export function ec2AuthFailure(error: unknown, region: string, operation: string): ApplicationFailure {
  return authFailed(
    `the EC2 API in ${region}`,
    `${ec2ErrorCode(error) ?? 'unknown error'} calling ${operation}; the credentials need the actions in docs/iam-policy.json`,
  );
}
