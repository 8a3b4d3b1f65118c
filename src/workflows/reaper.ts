// reapStrays: removes every cluster whose run is closed (found by tag through each provider); one
// cluster's failure never stops the others. Deterministic: imports activity types only.
import { isCancellation, log, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { failureText } from '../common/failure-summary';
import type { ListFailure, ReaperActivities, StrayCluster } from '../activities/reaper';
import { NON_RETRYABLE_FAILURES } from '../common/errors';
import { HEARTBEAT_TIMEOUT } from './activity-profiles';

/** Clusters removed at once: a backlog clears quickly without flooding a provider's API. */
const REAP_CONCURRENCY = 4;

export interface ReapResult {
  reaped: string[];
  /** Found closed, but started again (a reused workflow id) before removal: left alone. */
  skipped: string[];
  failed: Array<{ clusterId: string; error: string }>;
  listFailed: ListFailure[];
}

// Few attempts: the schedule is the outer retry, and a cluster that fails now is found again next time.
const RETRY: ActivityOptions['retry'] = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 3,
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
};

const REAPER_PROFILES = {
  search: { startToCloseTimeout: '5 minutes', retry: RETRY },
  // Terminating EC2 instances and deleting their group waits for the cloud: long, heartbeating.
  removal: { startToCloseTimeout: '30 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: RETRY },
} as const satisfies Record<string, ActivityOptions>;

const { findStrayClusters } = proxyActivities<ReaperActivities>(REAPER_PROFILES.search);
const { reapCluster } = proxyActivities<ReaperActivities>(REAPER_PROFILES.removal);

export async function reapStrays(): Promise<ReapResult> {
  const { strays, listFailed } = await findStrayClusters();
  const result: ReapResult = { reaped: [], skipped: [], failed: [], listFailed };
  await forEachBounded(strays, REAP_CONCURRENCY, async (stray) => {
    try {
      const outcome = await reapCluster(stray);
      (outcome === 'reaped' ? result.reaped : result.skipped).push(stray.clusterId);
    } catch (err) {
      if (isCancellation(err)) throw err;
      result.failed.push({ clusterId: stray.clusterId, error: failureText(err) });
    }
  });
  for (const failure of [...result.failed, ...listFailed]) log.warn('reaper could not finish', { ...failure });
  result.reaped.sort();
  result.skipped.sort();
  result.failed.sort((a, b) => a.clusterId.localeCompare(b.clusterId));
  return result;
}

async function forEachBounded(items: StrayCluster[], limit: number, fn: (item: StrayCluster) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await fn(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
