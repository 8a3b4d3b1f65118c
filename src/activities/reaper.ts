// Reaper activities: clusters that still own resources although their run is closed (found by tag
// through each provider), and their removal. A cluster whose run is open is never touched.
import { prerequisiteMissing } from '../common/errors';
import type { ClusterRef, ClusterScope, Provider } from '../providers/provider';
import { keepAlive } from './keep-alive';

/** The provider verbs a reaper uses: it finds clusters and removes them, it never creates anything. */
export type ReapableProvider = Pick<Provider, 'listClusters' | 'terminateNodes' | 'cleanup'>;

export interface RunLookup {
  /** Whether the run whose workflow id is this cluster id has ended; a workflow that does not exist has. */
  isClosed(workflowId: string): Promise<boolean>;
}

export interface ReaperDeps {
  /** The providers to sweep, by a key that names the same place on every worker ('local', 'aws:us-east-1'). */
  providers: ReadonlyMap<string, ReapableProvider>;
  runs: RunLookup;
  /**
   * The worker's namespace and task queue: only clusters tagged with both are swept, so that deployments sharing
   * an account (staging and production namespaces) never remove each other's. Unset: every cluster (tests only).
   */
  scope?: ClusterScope;
}

export interface StrayCluster {
  provider: string;
  clusterId: string;
}

export interface ListFailure {
  provider: string;
  error: string;
}

export interface StraySearch {
  strays: StrayCluster[];
  /** Providers that could not be listed; the others' strays are still reaped. */
  listFailed: ListFailure[];
}

/** 'run-open': the cluster's run was started again since it was found (a reused workflow id); left alone. */
export type ReapOutcome = 'reaped' | 'run-open';

export function createReaperActivities(deps: ReaperDeps) {
  return {
    async findStrayClusters(): Promise<StraySearch> {
      const search: StraySearch = { strays: [], listFailed: [] };
      await Promise.all(
        [...deps.providers].map(async ([provider, reapable]) => {
          try {
            const ids = await closedClusters(deps.runs, await reapable.listClusters(undefined, deps.scope));
            search.strays.push(...ids.map((clusterId) => ({ provider, clusterId })));
          } catch (err) {
            search.listFailed.push({ provider, error: err instanceof Error ? err.message : String(err) });
          }
        }),
      );
      search.strays.sort((a, b) => a.provider.localeCompare(b.provider) || a.clusterId.localeCompare(b.clusterId));
      return search;
    },

    async reapCluster(stray: StrayCluster): Promise<ReapOutcome> {
      const reapable = deps.providers.get(stray.provider);
      if (reapable === undefined) {
        throw prerequisiteMissing(
          `this worker does not reap ${stray.provider}`,
          'Give every worker of the task queue the same reaper settings.',
        );
      }
      // Checked again just before removing: the search may be minutes old when a retry runs.
      if (!(await deps.runs.isClosed(stray.clusterId))) return 'run-open';
      const ref = reapRef(stray.clusterId);
      await keepAlive(async () => {
        await reapable.terminateNodes(ref);
        await reapable.cleanup(ref);
      });
      return 'reaped';
    },
  };
}

export type ReaperActivities = ReturnType<typeof createReaperActivities>;

async function closedClusters(runs: RunLookup, clusterIds: string[]): Promise<string[]> {
  const closed = await Promise.all(clusterIds.map((id) => runs.isClosed(id)));
  return clusterIds.filter((_, index) => closed[index] === true);
}

/** A reaper does not know the run's name; no removal verb reads it (they find resources by cluster id). */
function reapRef(clusterId: string): ClusterRef {
  return { clusterId, runName: clusterId };
}
