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
}

/** Not retried by Temporal: the workflow answers it by replacing the nodes and resuming. */
export function nodeLost(nodes: string[], reason: string): ApplicationFailure {
  return failure(
    FailureType.NodeLost,
    `lost node(s) ${nodes.join(', ')}: ${reason}`,
    { nodes, reason } satisfies NodeLostData,
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
