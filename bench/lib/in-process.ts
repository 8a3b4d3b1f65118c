// Runs tuneforge's real activity functions in this process, without a Temporal server, through the SDK's
// MockActivityEnvironment (heartbeats go nowhere, cancellation works).
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../../src/activities';

// ERROR only: the relaunch's training step fails on purpose (NodeLost) and the SDK would log it as a warning.
const QUIET = new DefaultLogger('ERROR');
const HOUR_MS = 3_600_000;

/** The step activities (the reaper's are optional in Activities and not used here). */
type StepName =
  | 'provisionMaster'
  | 'installDeps'
  | 'bakeImage'
  | 'launchWorkers'
  | 'wireSsh'
  | 'sanityRun'
  | 'distributedTrain'
  | 'teardown'
  | 'replaceNodes'
  | 'replaceMaster';

export interface InProcessActivity<R> {
  result: Promise<R>;
  cancel: () => void;
}

/** Starts one activity call in its own mock context, as the workflow would schedule it. */
export function startActivity<K extends StepName>(
  activities: Activities,
  workflowId: string,
  name: K,
  ...args: Parameters<Activities[K]>
): InProcessActivity<Awaited<ReturnType<Activities[K]>>> {
  const env = new MockActivityEnvironment(
    {
      activityType: name,
      workflowType: 'fineTune',
      workflowExecution: { workflowId, runId: 'bench-in-process' },
      startToCloseTimeoutMs: HOUR_MS,
      scheduleToCloseTimeoutMs: HOUR_MS,
    },
    { logger: QUIET },
  );
  const fn = activities[name] as (...a: unknown[]) => Promise<Awaited<ReturnType<Activities[K]>>>;
  return { result: env.run(fn, ...(args as unknown[])), cancel: () => env.cancel() };
}

export function runActivity<K extends StepName>(
  activities: Activities,
  workflowId: string,
  name: K,
  ...args: Parameters<Activities[K]>
): Promise<Awaited<ReturnType<Activities[K]>>> {
  return startActivity(activities, workflowId, name, ...args).result;
}

export function inProcessActivities(deps: ActivityDeps): Activities {
  return createActivities(deps);
}
