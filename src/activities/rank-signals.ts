// Signals to the training ranks on every node (TERM: save at the next step boundary, then stop; USR2: save
// there, then finish as if at the last step). A node where sending failed is reported and tried again at the
// next call, until every node has it: a lost signal would leave ranks training past a spend cap or a spot notice.
import { failureText } from '../common/failure-summary';
import { TRAINING_RANK_PATTERN } from '../recipes/recipe';
import { targetFor, type ActivityDeps } from './deps';
import type { NodeRecord, RunContext } from './types';

export type RankSignal = 'TERM' | 'USR2';

/** pkill's exit status when no process matched: the ranks there have already ended, which is what was asked. */
const PKILL_NO_MATCH = 1;
/** A node that does not answer is the node watch's to declare lost; the signal must not hold the watch up for long. */
const SIGNAL_CONNECT_TIMEOUT_MS = 10_000;

export interface SignalFailure {
  node: string;
  signal: RankSignal;
  reason: string;
}

export interface RankSignaller {
  /** Sends the signal to every node that has not had it yet; resolves with the nodes still without it. */
  sendPending(): Promise<string[]>;
}

export function rankSignaller(
  deps: ActivityDeps,
  ctx: RunContext,
  nodes: NodeRecord[],
  signal: RankSignal,
  report: (failure: SignalFailure) => void,
): RankSignaller {
  const pending = new Map(nodes.map((node) => [node.name, node]));
  return {
    async sendPending() {
      const results = await Promise.all(
        [...pending.values()].map(async (node) => ({ node, reason: await signalNode(deps, ctx, node, signal) })),
      );
      for (const { node, reason } of results) {
        if (reason === null) pending.delete(node.name);
        else report({ node: node.name, signal, reason });
      }
      return [...pending.keys()];
    },
  };
}

/** Null once the node's ranks have the signal (or none are left there); else why not. */
async function signalNode(deps: ActivityDeps, ctx: RunContext, node: NodeRecord, signal: RankSignal): Promise<string | null> {
  try {
    const result = await deps.remote.run(await targetFor(deps, ctx, node), `pkill -${signal} -f '${TRAINING_RANK_PATTERN}'`, {
      label: `signal ranks on ${node.name}`,
      connectTimeoutMs: SIGNAL_CONNECT_TIMEOUT_MS,
    });
    if (result.exitCode === 0 || result.exitCode === PKILL_NO_MATCH) return null;
    return `pkill exited ${result.exitCode ?? result.exitSignal ?? 'without a status'}: ${result.stderr.trim().slice(-200)}`;
  } catch (err) {
    // Reported and retried, never dropped: the caller sends again at its next watch.
    return failureText(err);
  }
}
