// upload-logs: every live node's job logs into the run's folder (`logs/<node>/<job>.log`), secrets redacted,
// so they outlive the cluster. Called before teardown whatever the outcome, and for the training job's log
// while it runs. Idempotent: each upload overwrites the same keys with the log as it is now.
import { Context } from '@temporalio/activity';
import type { ArtifactStore, NodeEndpoint } from '../artifacts/artifact-store';
import { knownSecrets, redactSecrets } from '../artifacts/log-redaction';
import { nodeLogKey } from '../artifacts/run-layout';
import { listJobLogs, MAX_LOG_BYTES, readJobLog } from '../remote/job-logs';
import { sshTarget } from '../remote/remote-shell';
import { activitySignal, clusterRef, runProvider, runStore, type ActivityDeps } from './deps';
import { keepAlive } from './keep-alive';
import type { RunContext } from './types';

/** How long one node's logs may take to read and store before the node is skipped. */
const NODE_LOGS_TIMEOUT_MS = 90_000;

export interface NodeLogs {
  node: string;
  /** Store keys written, relative to the run's folder. */
  keys: string[];
}

export interface LogUploadResult {
  uploaded: NodeLogs[];
  /** Nodes whose logs could not be read (gone, not answering): named, never a failure of the run. */
  skipped: Array<{ node: string; reason: string }>;
}

/** Why a node was skipped, without the error's text: that can carry a command line, and so a secret. */
function skipReason(err: unknown): string {
  return err instanceof Error ? `${err.name}: could not read its logs` : 'could not read its logs';
}

/**
 * Uploads the named jobs' logs of one node, or every job's log written since `launchedAt` (a node launched from
 * an image carries the logs of the node the image was made from, last written before it: not its own).
 * Returns the keys written.
 */
export async function uploadNodeLogs(
  store: ArtifactStore,
  node: NodeEndpoint,
  secrets: readonly string[],
  jobs: readonly string[] | { launchedAt: string },
  signal: AbortSignal | undefined = activitySignal(),
): Promise<string[]> {
  const names = 'launchedAt' in jobs ? await ownJobs(node, Date.parse(jobs.launchedAt), signal) : jobs;
  const keys: string[] = [];
  for (const job of names) {
    const log = await readJobLog(node.remote, node.target, job, signal);
    const head = log.truncated
      ? `[tuneforge: the log's first bytes are left out: only its last ${MAX_LOG_BYTES} are kept]\n`
      : '';
    const key = nodeLogKey(node.target.name, job);
    await store.putText(key, head + redactSecrets(log.text, secrets), 'text/plain; charset=utf-8');
    keys.push(key);
  }
  return keys;
}

async function ownJobs(node: NodeEndpoint, launchedMs: number, signal?: AbortSignal): Promise<string[]> {
  // stat's seconds are whole: a log written in the launch's own second counts as the node's.
  const launchedSecondMs = Math.floor(launchedMs / 1000) * 1000;
  return (await listJobLogs(node.remote, node.target, signal))
    .filter((entry) => Number.isNaN(launchedMs) || entry.modifiedMs >= launchedSecondMs)
    .map((entry) => entry.job);
}

/** The secrets a log must not carry: the worker's own, matched literally, and any token's shape. */
export function workerSecrets(deps: ActivityDeps): string[] {
  return knownSecrets(process.env, [deps.hub?.token]);
}

export function createLogActivities(deps: ActivityDeps) {
  return {
    async uploadLogs(input: RunContext): Promise<LogUploadResult> {
      const provider = runProvider(deps, input);
      const store = runStore(deps, input);
      const nodes = (await provider.listNodes(clusterRef(input))).filter((n) => n.state === 'running');
      const identity = nodes.length > 0 ? await provider.sshIdentity() : undefined;
      const result: LogUploadResult = { uploaded: [], skipped: [] };
      await keepAlive(async () => {
        for (const node of nodes) {
          if (!identity) break;
          try {
            const endpoint = { remote: deps.remote, target: sshTarget(node, identity) };
            // A frozen node must not hold the teardown behind it: its reads end at the deadline and it is skipped.
            const signal = AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(NODE_LOGS_TIMEOUT_MS)]);
            const launched = { launchedAt: node.launchedAt };
            const keys = await uploadNodeLogs(store, endpoint, workerSecrets(deps), launched, signal);
            result.uploaded.push({ node: node.name, keys });
          } catch (err) {
            if (Context.current().cancellationSignal.aborted) throw err;
            result.skipped.push({ node: node.name, reason: skipReason(err) });
          }
        }
      });
      if (result.skipped.length > 0)
        Context.current().log.warn('some nodes were skipped: their logs are not in the store', {
          nodes: result.skipped.map((s) => s.node),
        });
      return result;
    },
  };
}
