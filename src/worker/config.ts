// The worker's settings, read once from the environment.
import { DEFAULT_NAMESPACE, DEFAULT_TEMPORAL_ADDRESS, TASK_QUEUE } from '../common/names';

export interface WorkerConfig {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  localLabRoot?: string;
  /** SSH source range for EC2 security groups when a spec sets no aws.sshCidr. */
  operatorCidr?: string;
  pollIntervalMs: number;
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const poll = Number(env.TUNEFORGE_POLL_MS ?? '2000');
  if (!Number.isFinite(poll) || poll < 100)
    throw new Error(`TUNEFORGE_POLL_MS must be a number of milliseconds >= 100, got ${env.TUNEFORGE_POLL_MS}`);
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE,
    taskQueue: env.TUNEFORGE_TASK_QUEUE ?? TASK_QUEUE,
    localLabRoot: env.TUNEFORGE_LOCAL_ROOT,
    operatorCidr: env.TUNEFORGE_OPERATOR_CIDR,
    pollIntervalMs: poll,
  };
}
