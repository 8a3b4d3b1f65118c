// Watches a cluster's nodes during training: lost (gone or stopped per the provider), frozen (SSH does
// not answer within a few seconds) or about to be reclaimed (a spot interruption notice on the node).
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import type { ClusterInfo, NodeRecord } from '../providers/provider';
import { SshSession } from '../remote/ssh-session';
import { clusterRef, runProvider, targetFor, type ActivityDeps } from './deps';
import type { RunContext } from './types';

/** A frozen sshd accepts TCP but never sends its banner: this long without an answer means frozen. */
export const FROZEN_AFTER_MS = 5000;
export const WATCH_EVERY_MS = 2000;
const NOTICE_MARKER = 'interruption-notice';
const NOT_A_LOSS = new Set<string>([FailureType.HostKeyMismatch, FailureType.AuthFailed]);

export interface NodeHealth {
  /** Gone, stopped or frozen. */
  lost: string[];
  /** Still up, but with a spot interruption notice. */
  noticed: string[];
}

export async function checkNodes(
  deps: ActivityDeps,
  ctx: RunContext,
  nodes: NodeRecord[],
  cluster?: ClusterInfo,
): Promise<NodeHealth> {
  const listed = await runProvider(deps, ctx).listNodes(clusterRef(ctx));
  const running = new Set(listed.filter((n) => n.state === 'running' || n.state === 'pending').map((n) => n.name));
  const gone = nodes.filter((n) => !running.has(n.name)).map((n) => n.name);
  const probes = await Promise.all(
    nodes
      .filter((n) => running.has(n.name))
      .map(async (n) => ({ name: n.name, probe: await probe(deps, ctx, n, cluster?.noticeCommand) })),
  );
  return {
    lost: [...gone, ...probes.filter((p) => p.probe === 'frozen').map((p) => p.name)],
    noticed: probes.filter((p) => p.probe === 'notice').map((p) => p.name),
  };
}

async function probe(
  deps: ActivityDeps,
  ctx: RunContext,
  node: NodeRecord,
  noticeCommand?: string,
): Promise<'ok' | 'frozen' | 'notice'> {
  let session: SshSession;
  try {
    session = await SshSession.connect(await targetFor(deps, ctx, node), FROZEN_AFTER_MS);
  } catch (err) {
    // A node that answers with the wrong host key or refuses our key is not lost: replacing it would
    // hide an attack or a broken key. The run fails with that failure's own type instead.
    if (err instanceof ApplicationFailure && NOT_A_LOSS.has(err.type ?? '')) throw err;
    return 'frozen';
  }
  try {
    if (!noticeCommand) return 'ok';
    const result = await session.exec(noticeCommand, { signal: AbortSignal.timeout(FROZEN_AFTER_MS) });
    return result.stdout.includes(NOTICE_MARKER) ? 'notice' : 'ok';
  } catch {
    return 'frozen';
  } finally {
    session.close();
  }
}

/** A watch function for followJob that checks the nodes at most every WATCH_EVERY_MS. */
export function nodeWatcher(
  check: () => Promise<NodeHealth>,
  onHealth: (health: NodeHealth) => Promise<void>,
): () => Promise<void> {
  let next = 0;
  return async () => {
    if (Date.now() < next) return;
    const health = await check();
    next = Date.now() + WATCH_EVERY_MS;
    await onHealth(health);
  };
}
