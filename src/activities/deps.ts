// What every activity factory receives; the worker builds these once, tests swap them.
import { Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore, NodeEndpoint } from '../artifacts/artifact-store';
import { storeRegion, type StoreOpener } from '../artifacts/open-store';
import type { ClusterRef, ClusterScope, Provider, NodeRecord } from '../providers/provider';
import { bindRun, type RunProvider } from '../providers/run-provider';
import type { RemoteShell } from '../remote/remote-shell';
import { sshTarget } from '../remote/remote-shell';
import type { SshTarget } from '../remote/ssh-session';
import type { RunSpec } from '../run-spec/schema';
import type { ReaperDeps } from './reaper';
import type { RunContext } from './types';

export interface ProgressUpdate {
  stage: string;
  step: number;
  maxSteps: number;
  loss: number | null;
  lastCheckpoint: string | null;
  /** The training job reporting (train-<n>), and the checkpoint step it resumed from. */
  jobId?: string;
  resumedStep?: number;
  /** What a step waits on, e.g. "waiting for master: 7 min, metal boots take up to 20 min"; training reports leave it out. */
  message?: string;
}

export interface ActivityDeps {
  /** The provider of the spec's place (the local lab, an EC2 region): one per place, shared by every run. */
  providerFor(spec: RunSpec): Provider;
  remote: RemoteShell;
  /** Tells the run's workflow how training goes (a signal in production). */
  reportProgress(workflowId: string, update: ProgressUpdate): Promise<void>;
  /** Opens a run's artifact store (model, checkpoints, run record) from its URI. */
  openStore: StoreOpener;
  /** The artifact store of local runs whose spec names none (a folder under the lab root). */
  localArtifactsUri: string;
  /** Reads data sources in S3 (moto in tests); default: an SDK client per region from the environment. */
  s3Client?: (region: string) => S3Client;
  /** TUNEFORGE_INPUT_ROOTS: the folders local data files and model folders must be in; unset: any path. */
  localInputRoots?: string[];
  /** How often a followed training job's log is copied to the store while it runs; default LOG_UPLOAD_EVERY_MS. */
  logUploadEveryMs?: number;
  /** How often long activities look at their remote job while its streamed log is quiet (and watch its nodes). */
  pollIntervalMs: number;
  /**
   * The worker's own HF_ENDPOINT and HF_TOKEN, given to the master's hub download only (the token on its
   * stdin): never in a spec, an activity's input or result, or a log.
   */
  hub?: { endpoint?: string; token?: string };
  /**
   * How long SSH may keep failing after EC2 says a booting node is reachable before the run fails
   * NodeUnreachable, and how often that is asked; default 3 min (TUNEFORGE_UNREACHABLE_AFTER_S) and 15 s.
   */
  unreachable?: { afterMs: number; pollMs: number };
  /** What the reaper sweeps and how it asks Temporal about runs; without it the reaper's activities are not registered. */
  reaper?: ReaperDeps;
}

export async function targetFor(deps: ActivityDeps, ctx: RunContext, node: NodeRecord): Promise<SshTarget> {
  const identity = await deps.providerFor(ctx.spec).sshIdentity(ctx.spec);
  return sshTarget(node, identity);
}

export async function endpointFor(deps: ActivityDeps, ctx: RunContext, node: NodeRecord): Promise<NodeEndpoint> {
  return { remote: deps.remote, target: await targetFor(deps, ctx, node) };
}

/** The run's artifact store, as prepare-artifacts resolved and checked it. */
export function runStore(deps: ActivityDeps, ctx: RunContext): ArtifactStore {
  if (!ctx.artifacts) throw new Error('the run has no artifact store yet (prepare-artifacts runs first)');
  return deps.openStore(ctx.artifacts, storeRegion(ctx.spec));
}

/**
 * The run's provider with the run's settings and the activity's cancellation signal on every call, so a
 * cancelled activity's waits and requests end at once instead of racing the teardown that follows.
 */
export function runProvider(deps: ActivityDeps, ctx: RunContext): RunProvider {
  return bindRun(deps.providerFor(ctx.spec), ctx.spec, activitySignal());
}

/** The current activity's cancellation signal; none when called outside an activity (unit tests, the reaper's helpers). */
export function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

export function clusterRef(ctx: RunContext): ClusterRef {
  const scope = activityScope();
  return { clusterId: ctx.clusterId, runName: ctx.spec.name, ...(scope ? { scope } : {}) };
}

/** The running activity's namespace and task queue (the worker's): tagged on the clusters it launches. */
export function activityScope(): ClusterScope | undefined {
  try {
    const { namespace, taskQueue } = Context.current().info;
    return { namespace, taskQueue };
  } catch {
    return undefined;
  }
}
