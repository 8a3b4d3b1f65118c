// Finds lost nodes during training: gone or stopped according to the provider, or frozen (SSH does not
// answer within a few seconds).
import type { NodeRecord } from '../providers/provider';
import { SshSession } from '../remote/ssh-session';
import { clusterRef, targetFor, type ActivityDeps } from './deps';
import type { RunContext } from './types';

/** A frozen sshd accepts TCP but never sends its banner: this long without a handshake means frozen. */
export const FROZEN_AFTER_MS = 8000;
export const WATCH_EVERY_MS = 3000;

export async function lostNodes(deps: ActivityDeps, ctx: RunContext, nodes: NodeRecord[]): Promise<string[]> {
  const listed = await deps.providerFor(ctx.spec).listNodes(clusterRef(ctx));
  const running = new Set(listed.filter((n) => n.state === 'running' || n.state === 'pending').map((n) => n.name));
  const gone = nodes.filter((n) => !running.has(n.name)).map((n) => n.name);
  const alive = nodes.filter((n) => running.has(n.name));
  const frozen = await Promise.all(alive.map(async (n) => ((await answersSsh(deps, ctx, n)) ? undefined : n.name)));
  return [...gone, ...frozen.filter((n): n is string => n !== undefined)];
}

async function answersSsh(deps: ActivityDeps, ctx: RunContext, node: NodeRecord): Promise<boolean> {
  try {
    const session = await SshSession.connect(await targetFor(deps, ctx, node), FROZEN_AFTER_MS);
    session.close();
    return true;
  } catch {
    return false;
  }
}

/** A watch function for followJob: checks at most every WATCH_EVERY_MS and calls onLost with the lost nodes. */
export function nodeWatcher(check: () => Promise<string[]>, onLost: (names: string[]) => Promise<never>): () => Promise<void> {
  let next = 0;
  return async () => {
    if (Date.now() < next) return;
    const lost = await check();
    next = Date.now() + WATCH_EVERY_MS;
    if (lost.length > 0) await onLost(lost);
  };
}
