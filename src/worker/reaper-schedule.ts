// The reaper's wiring in the worker: its settings from the environment, its deps, and the Temporal
// Schedule that starts reapStrays every few minutes.
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ReapableProvider, ReaperDeps, RunLookup } from '../activities/reaper';
import type { ClusterScope } from '../providers/provider';
import { workflowIdsOfCluster } from '../common/cluster-id';
import { REAPER_SCHEDULE_PREFIX } from '../common/names';
import type * as reaperWorkflows from '../workflows/reaper';

export const REAPER_INTERVAL: Duration = '15 minutes';
/** Checked against the workflow module by the compiler; the worker process never loads workflow code. */
const REAPER_WORKFLOW_TYPE: keyof typeof reaperWorkflows = 'reapStrays';
/** The same rule as the spec's aws.region. */
const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CLOSED_STATUSES: ReadonlySet<WorkflowExecutionStatusName> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
]);

export interface ReaperConfig {
  /** TUNEFORGE_REAPER=off: this worker does not create the schedule (its activities still run). */
  scheduled: boolean;
  /** TUNEFORGE_REAP_AWS_REGIONS, comma-separated: EC2 regions swept besides the local provider. */
  awsRegions: string[];
}

export function readReaperConfig(env: NodeJS.ProcessEnv = process.env): ReaperConfig {
  const switchValue = env.TUNEFORGE_REAPER ?? 'on';
  if (switchValue !== 'on' && switchValue !== 'off') throw new Error(`TUNEFORGE_REAPER must be on or off, got ${switchValue}`);
  const awsRegions = [...new Set(commaList(env.TUNEFORGE_REAP_AWS_REGIONS))];
  const invalid = awsRegions.filter((region) => !AWS_REGION_PATTERN.test(region));
  if (invalid.length > 0) {
    throw new Error(`TUNEFORGE_REAP_AWS_REGIONS must list AWS regions such as us-east-1, got ${invalid.join(', ')}`);
  }
  return { scheduled: switchValue === 'on', awsRegions };
}

function commaList(value = ''): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export interface ReaperProviderOptions {
  local: ReapableProvider;
  /** The EC2 provider of each region swept (the same ones the worker's runs use). */
  aws: Array<[region: string, provider: ReapableProvider]>;
  /** The worker's namespace and task queue; the worker always sets it. */
  scope?: ClusterScope;
}

export function buildReaperDeps(client: Client, options: ReaperProviderOptions): ReaperDeps {
  const providers = new Map<string, ReapableProvider>([['local', options.local]]);
  for (const [region, provider] of options.aws) providers.set(`aws:${region}`, provider);
  return { providers, runs: temporalRunLookup(client), ...(options.scope ? { scope: options.scope } : {}) };
}

/**
 * Asks Temporal about the run a cluster belongs to; an unknown run is a closed one. A scheduled run's
 * cluster id differs from its workflow id, so every workflow id the cluster id can stand for must be closed.
 */
export function temporalRunLookup(client: Client): RunLookup {
  const closed = async (workflowId: string): Promise<boolean> => {
    try {
      const { status } = await client.workflow.getHandle(workflowId).describe();
      return CLOSED_STATUSES.has(status.name);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return true;
      throw err;
    }
  };
  return {
    async isClosed(clusterId: string): Promise<boolean> {
      const answers = await Promise.all(workflowIdsOfCluster(clusterId).map(closed));
      return answers.every(Boolean);
    },
  };
}

/** One reaper per task queue: deployments that share a namespace each sweep their own providers. */
export function reaperScheduleId(taskQueue: string): string {
  return `${REAPER_SCHEDULE_PREFIX}-${taskQueue}`;
}

/** Creates the reaper's schedule unless it exists (an existing one is left as it is, interval included). */
export async function ensureReaperSchedule(
  client: Client,
  taskQueue: string,
  every: Duration = REAPER_INTERVAL,
): Promise<'created' | 'exists'> {
  const scheduleId = reaperScheduleId(taskQueue);
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every }] },
      action: { type: 'startWorkflow', workflowType: REAPER_WORKFLOW_TYPE, workflowId: scheduleId, taskQueue, args: [] },
      // A sweep still removing clusters when the next is due: the next one is skipped, never stacked.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
