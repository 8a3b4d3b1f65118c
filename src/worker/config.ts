// The worker's settings, read once from the environment (Temporal's: a profile, see common/temporal-profile.ts).
import { TASK_QUEUE } from '../common/names';
import { readTemporalProfile, TemporalProfileInvalid, type TemporalProfile } from '../common/temporal-profile';

export interface WorkerConfig {
  /** Address, namespace, TLS and API key: TEMPORAL_CONFIG_FILE's TEMPORAL_PROFILE, then TEMPORAL_* variables. */
  temporal: TemporalProfile;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  localLabRoot?: string;
  /** TUNEFORGE_LOCAL_BOOT_DELAY_MS: local nodes answer SSH this long after launch (models EC2 bare metal's slow boot). */
  localBootDelayMs: number;
  /** SSH source range for EC2 security groups when a spec sets no aws.sshCidr. */
  operatorCidr?: string;
  pollIntervalMs: number;
  /** TUNEFORGE_INPUT_ROOTS: colon-separated absolute folders that local data and model paths must be in. */
  inputRoots?: string[];
}

export class WorkerConfigInvalid extends Error {
  override readonly name = 'WorkerConfigInvalid';
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** TUNEFORGE_OPERATOR_CIDR: unset or empty means none; anything else must be a CIDR narrower than the internet. */
function operatorCidr(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const m = CIDR.exec(value.trim());
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32 || Number(m[5]) === 0)
    throw new WorkerConfigInvalid(
      `TUNEFORGE_OPERATOR_CIDR must be an IPv4 CIDR narrower than /0, such as 203.0.113.7/32, got ${JSON.stringify(value)}`,
    );
  return value.trim();
}

function inputRoots(value: string | undefined): { inputRoots?: string[] } {
  if (value === undefined || value.trim() === '') return {};
  const roots = value.split(':').filter((r) => r !== '');
  const bad = roots.find((r) => !r.startsWith('/') || r.split('/').includes('..'));
  if (bad !== undefined)
    throw new WorkerConfigInvalid(`TUNEFORGE_INPUT_ROOTS must be absolute folders separated by ":", got ${JSON.stringify(bad)}`);
  return { inputRoots: roots };
}

function temporalProfile(env: NodeJS.ProcessEnv): TemporalProfile {
  try {
    return readTemporalProfile(env);
  } catch (err) {
    if (err instanceof TemporalProfileInvalid) throw new WorkerConfigInvalid(err.message);
    throw err;
  }
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const poll = Number(env.TUNEFORGE_POLL_MS ?? '2000');
  if (!Number.isFinite(poll) || poll < 100)
    throw new WorkerConfigInvalid(`TUNEFORGE_POLL_MS must be a number of milliseconds >= 100, got ${env.TUNEFORGE_POLL_MS}`);
  const bootDelay = Number(env.TUNEFORGE_LOCAL_BOOT_DELAY_MS ?? '0');
  if (!Number.isFinite(bootDelay) || bootDelay < 0)
    throw new WorkerConfigInvalid(
      `TUNEFORGE_LOCAL_BOOT_DELAY_MS must be a number of milliseconds >= 0, got ${env.TUNEFORGE_LOCAL_BOOT_DELAY_MS}`,
    );
  const temporal = temporalProfile(env);
  return {
    temporal,
    temporalAddress: temporal.address,
    namespace: temporal.namespace,
    taskQueue: env.TUNEFORGE_TASK_QUEUE ?? TASK_QUEUE,
    localLabRoot: env.TUNEFORGE_LOCAL_ROOT,
    localBootDelayMs: bootDelay,
    operatorCidr: operatorCidr(env.TUNEFORGE_OPERATOR_CIDR),
    pollIntervalMs: poll,
    ...inputRoots(env.TUNEFORGE_INPUT_ROOTS),
  };
}
