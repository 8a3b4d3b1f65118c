// Business failures: each class's `type` is the stable Temporal failure type that workflows branch on.
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  SpecInvalid: 'SpecInvalid',
  PrerequisiteMissing: 'PrerequisiteMissing',
  CapacityUnavailable: 'CapacityUnavailable',
  QuotaExceeded: 'QuotaExceeded',
  ImageNotFound: 'ImageNotFound',
  AmxMissing: 'AmxMissing',
  HostKeyMismatch: 'HostKeyMismatch',
  AuthFailed: 'AuthFailed',
  NodeLost: 'NodeLost',
  RemoteCommandFailed: 'RemoteCommandFailed',
  TrainingFailed: 'TrainingFailed',
  TrainingTimedOut: 'TrainingTimedOut',
  BudgetExceeded: 'BudgetExceeded',
  ClusterConflict: 'ClusterConflict',
  DataChanged: 'DataChanged',
  PreflightFailed: 'PreflightFailed',
  NodeUnreachable: 'NodeUnreachable',
  WebhookFailed: 'WebhookFailed',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Failure types that no retry can fix: the run ends at once (and tears down). */
export const NON_RETRYABLE_FAILURES: FailureTypeName[] = [
  FailureType.SpecInvalid,
  FailureType.QuotaExceeded,
  FailureType.PrerequisiteMissing,
  FailureType.ImageNotFound,
  FailureType.AmxMissing,
  FailureType.HostKeyMismatch,
  FailureType.AuthFailed,
  FailureType.ClusterConflict,
  FailureType.DataChanged,
  FailureType.PreflightFailed,
  FailureType.NodeUnreachable,
];

export interface SpecProblem {
  path: string;
  message: string;
}

function failure(type: FailureTypeName, message: string, data: object, nonRetryable?: boolean): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    details: [data],
    nonRetryable: nonRetryable ?? NON_RETRYABLE_FAILURES.includes(type),
  });
}

export function specInvalid(problems: SpecProblem[]): ApplicationFailure {
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  return failure(FailureType.SpecInvalid, `the run spec is invalid:\n${lines}`, { problems });
}

export function prerequisiteMissing(what: string, fix: string): ApplicationFailure {
  return failure(FailureType.PrerequisiteMissing, `${what}. ${fix}`, { what, fix });
}

export function hostKeyMismatch(node: string, expected: string, actual: string): ApplicationFailure {
  return failure(
    FailureType.HostKeyMismatch,
    `host key of ${node} is ${actual}, but ${expected} was pinned at launch; refusing to connect`,
    { node, expected, actual },
  );
}

export function authFailed(node: string, reason: string): ApplicationFailure {
  return failure(FailureType.AuthFailed, `SSH authentication to ${node} failed: ${reason}`, { node });
}

/** Credentials or permissions refuse access to something other than a node (e.g. the artifact store). */
export function authFailedFor(resource: string, reason: string): ApplicationFailure {
  return failure(FailureType.AuthFailed, `access to ${resource} was refused: ${reason}`, { resource });
}

export interface RemoteFailureData {
  node: string;
  label: string;
  exitCode: number | null;
  outputTail: string;
}

export function remoteCommandFailed(data: RemoteFailureData): ApplicationFailure {
  const code = data.exitCode === null ? 'no exit code' : `exit code ${data.exitCode}`;
  return failure(
    FailureType.RemoteCommandFailed,
    `${data.label} failed on ${data.node} (${code}); last output:\n${data.outputTail}`,
    data,
  );
}

export interface NodeLostData {
  nodes: string[];
  reason: string;
  /** The last step the job's log showed when the loss was found (absent when none had been read). */
  lastStep?: number;
}

/** Not retried by Temporal: the workflow answers it by replacing the nodes and resuming. */
export function nodeLost(nodes: string[], reason: string, lastStep?: number): ApplicationFailure {
  return failure(
    FailureType.NodeLost,
    `lost node(s) ${nodes.join(', ')}: ${reason}`,
    { nodes, reason, ...(lastStep === undefined ? {} : { lastStep }) } satisfies NodeLostData,
    true,
  );
}

export function trainingFailed(exitCode: number | null, outputTail: string): ApplicationFailure {
  return failure(
    FailureType.TrainingFailed,
    `training exited with ${exitCode === null ? 'no exit code' : `code ${exitCode}`}; last output:\n${outputTail}`,
    { exitCode, outputTail },
  );
}

export function clusterConflict(message: string): ApplicationFailure {
  return failure(FailureType.ClusterConflict, message, {});
}

export function imageNotFound(image: string, reason: string): ApplicationFailure {
  return failure(FailureType.ImageNotFound, `image ${image} not found: ${reason}`, { image });
}

export interface QuotaData {
  /** The cloud's error code, e.g. VcpuLimitExceeded. */
  code: string;
  /** The quota's name as the Service Quotas console shows it. */
  quota: string;
  /** The Service Quotas code (L-...), when known. */
  quotaCode?: string;
  /** How to raise it, in words and as a command. */
  fix: string;
}

/** An account limit, not a shortage: no other zone or retry helps until someone raises the quota. */
export function quotaExceeded(data: QuotaData, what: string): ApplicationFailure {
  return failure(FailureType.QuotaExceeded, `${data.code} ${what}: the quota "${data.quota}" is used up. ${data.fix}`, data);
}

export function capacityUnavailable(tried: string[], reason: string): ApplicationFailure {
  return failure(FailureType.CapacityUnavailable, `no capacity (${tried.join(', ')}): ${reason}`, { tried }, false);
}

export function amxMissing(node: string): ApplicationFailure {
  return failure(
    FailureType.AmxMissing,
    `${node} has no AMX (lscpu flags lack amx_bf16/amx_tile/amx_int8); choose a Sapphire Rapids or later instance type (e.g. r7iz, m7i, c7i) or set aws.requireAmx: false`,
    { node },
  );
}

export interface DataChangedData {
  /** The spec field: data.train, data.validation or model. */
  field: string;
  source: string;
  expected: string;
  actual: string;
  node?: string;
}

/** A data file (or model folder) no longer has the content checked before launch: never train on something else. */
export function dataChanged(data: DataChangedData): ApplicationFailure {
  return failure(
    FailureType.DataChanged,
    `${data.field}: ${data.source} changed after it was checked (sha256 ${data.expected}, now ${data.actual}${data.node ? ` on ${data.node}` : ''}); start a new run to use the new content`,
    data,
  );
}

/** One preflight check that failed: what was checked, the numbers when it counts something, and the fix. */
export interface PreflightProblem {
  /** e.g. vcpu-quota, instance-type, base-image, key-pair, artifact-store. */
  check: string;
  /** The spec field it concerns, e.g. aws.instanceTypes or artifacts.uri. */
  field: string;
  message: string;
  needed?: number;
  available?: number;
  fix: string;
}

/**
 * Every failed preflight check at once, so one look fixes them all; nothing was created. One type with a
 * `check` field per problem, not one type per check: the run answers each the same way (stop before any
 * spend) and the operator reads the list, while the details keep each check's numbers machine-readable.
 */
export function preflightFailed(problems: PreflightProblem[]): ApplicationFailure {
  const lines = problems.map((p) => `  - ${p.check} (${p.field}): ${p.message} ${p.fix}`).join('\n');
  return failure(FailureType.PreflightFailed, `preflight failed, nothing was created:\n${lines}`, { problems });
}

export interface NodeUnreachableData {
  node: string;
  address: string;
  /** The range the nodes' security group allows on port 22. */
  sshCidr: string;
  /** How long SSH kept failing after EC2 itself reached the instance. */
  waitedSeconds: number;
}

/** EC2 reaches the instance but the worker cannot: a network path problem that no relaunch fixes. */
export function nodeUnreachable(data: NodeUnreachableData): ApplicationFailure {
  return failure(
    FailureType.NodeUnreachable,
    `${data.node} (${data.address}) passed EC2's reachability check, but SSH from this worker still failed ${data.waitedSeconds} s later. ` +
      `Likely causes: the worker's public address is not inside the security group's SSH range ${data.sshCidr} (aws.sshCidr or TUNEFORGE_OPERATOR_CIDR), ` +
      'the worker is behind a NAT or firewall that blocks outgoing port 22, or the node has no public IP address (default subnet without auto-assigned public IPv4).',
    data,
  );
}

/**
 * A run's webhook notice was not accepted. Retried while the receiver may recover (no answer, 408, 429, 5xx);
 * any other answer is final. The reason is a status or an error code, never the URL (it holds a token).
 */
export function webhookFailed(reason: string, retryable: boolean): ApplicationFailure {
  return failure(FailureType.WebhookFailed, `the webhook did not take the notice: ${reason}`, { reason }, !retryable);
}
