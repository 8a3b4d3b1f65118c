// Watches a cluster's nodes during training. A node is lost on the provider's word (gone, stopped,
// terminated, or impaired: a failed EC2 status check) at once, or after several consecutive missed SSH
// probes spanning a minimum window while another node of the cluster answers (a quorum): one slow probe
// over the internet must not cost a recovery, and when no node answers it is the worker that is cut off,
// which no replacement would mend. A spot interruption notice on a node is reported separately. Probes go
// through the RemoteShell seam, so tests can make them stall or fail.
import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { FailureType } from '../common/errors';
import { providerTraits, type WatchPolicy } from '../providers/capabilities';
import type { ClusterInfo, NodeRecord } from '../providers/provider';
import type { ProviderName } from '../run-spec/schema';
import { clusterRef, runProvider, targetFor, type ActivityDeps } from './deps';
import type { RunContext } from './types';

// Each provider's policy, and why, is in its capabilities (src/providers/<name>/capabilities.ts).
export { AWS_WATCH } from '../providers/aws/capabilities';
export { LOCAL_WATCH } from '../providers/local/capabilities';
export type { WatchPolicy };

export function watchPolicyFor(provider: ProviderName): WatchPolicy {
  return providerTraits(provider).watch;
}

const NOTICE_MARKER = 'interruption-notice';
const NOT_A_LOSS = new Set<string>([FailureType.HostKeyMismatch, FailureType.AuthFailed]);

export interface NodeHealth {
  /** Gone, stopped or impaired per the provider, or missed enough consecutive probes while another node answered. */
  lost: string[];
  /** Still up, but with a spot interruption notice. */
  noticed: string[];
  /**
   * Set when no node of the cluster answered this round (ms since the epoch of the first miss): the worker
   * cannot reach the cluster, and nodes that only missed probes are not lost.
   */
  unreachableSince?: number;
}

type Probe = 'ok' | 'miss' | 'notice';

interface MissRun {
  count: number;
  firstStartedAt: number;
  lastEndedAt: number;
}

/** One watch over a set of nodes; it remembers consecutive misses between rounds. */
export class NodeWatch {
  private readonly misses = new Map<string, MissRun>();

  constructor(
    private readonly deps: ActivityDeps,
    private readonly ctx: RunContext,
    private readonly nodes: NodeRecord[],
    private readonly cluster?: ClusterInfo,
    readonly policy: WatchPolicy = watchPolicyFor(ctx.spec.provider),
  ) {}

  /** One round: the provider's view of every node, then one probe of each node it lists as up. */
  async check(): Promise<NodeHealth> {
    const listed = await runProvider(this.deps, this.ctx).listNodes(clusterRef(this.ctx));
    const usable = new Set(
      listed.filter((n) => (n.state === 'running' || n.state === 'pending') && n.impairment === undefined).map((n) => n.name),
    );
    const gone = this.nodes.filter((n) => !usable.has(n.name)).map((n) => n.name);
    const probes = await Promise.all(
      this.nodes.filter((n) => usable.has(n.name)).map(async (n) => ({ name: n.name, probe: await this.probe(n) })),
    );
    const missed = probes.filter((p) => p.probe === 'miss').map((p) => p.name);
    const noticed = probes.filter((p) => p.probe === 'notice').map((p) => p.name);
    if (missed.length === 0) return { lost: gone, noticed };
    const peers = listed.filter((n) => usable.has(n.name) && !this.nodes.some((w) => w.name === n.name));
    if (missed.length < probes.length || (await this.anyAnswers(peers))) {
      return { lost: [...gone, ...missed.filter((name) => this.missedEnough(name))], noticed };
    }
    const firstMisses = missed.map((name) => this.misses.get(name)?.firstStartedAt ?? Date.now());
    return { lost: gone, noticed, unreachableSince: Math.min(...firstMisses) };
  }

  /**
   * Rounds until no node is in doubt: every node is then either lost (provider evidence or enough
   * misses) or answering. For callers that decide once (replace a node or not), not in a loop.
   */
  async confirm(): Promise<NodeHealth> {
    for (;;) {
      const health = await this.check();
      // Cut off from every node: waiting here would decide nothing until the network returns.
      if (health.unreachableSince !== undefined) return health;
      const inDoubt = [...this.misses.keys()].filter((name) => !health.lost.includes(name));
      if (inDoubt.length === 0) return health;
      await sleep(this.policy.everyMs);
    }
  }

  private missedEnough(name: string): boolean {
    const run = this.misses.get(name);
    return (
      run !== undefined &&
      run.count >= this.policy.missesToLose &&
      run.lastEndedAt - run.firstStartedAt >= this.policy.minWindowMs
    );
  }

  /** A quorum probe of nodes outside the watched set: does any of them answer? Their misses are not counted. */
  private async anyAnswers(peers: NodeRecord[]): Promise<boolean> {
    const answers = await Promise.all(peers.map((n) => this.answer(n).then((p) => p !== 'miss', () => false)));
    return answers.includes(true);
  }

  private async probe(node: NodeRecord): Promise<Probe> {
    const startedAt = Date.now();
    let result: Probe;
    try {
      result = await this.answer(node);
    } catch (err) {
      // A node that answers with the wrong host key or refuses our key is not lost: replacing it would
      // hide an attack or a broken key. The run fails with that failure's own type instead.
      if (err instanceof ApplicationFailure && NOT_A_LOSS.has(err.type ?? '')) throw err;
      result = 'miss';
    }
    if (result === 'miss') {
      const run = this.misses.get(node.name);
      this.misses.set(node.name, {
        count: (run?.count ?? 0) + 1,
        firstStartedAt: run?.firstStartedAt ?? startedAt,
        lastEndedAt: Date.now(),
      });
    } else {
      this.misses.delete(node.name);
    }
    return result;
  }

  private async answer(node: NodeRecord): Promise<Probe> {
    const timeoutMs = this.policy.probeTimeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    const run = this.deps.remote.run(await targetFor(this.deps, this.ctx, node), this.cluster?.noticeCommand ?? 'true', {
      label: `probe ${node.name}`,
      connectTimeoutMs: timeoutMs,
      signal,
    });
    // The deadline holds even if a shell ignores the signal (a stalled connect, a fake in a test).
    const expired = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true }),
    );
    run.catch(() => undefined);
    const result = await Promise.race([run, expired]);
    // No exit status: the connection dropped under the command (a node killed mid-probe).
    if (result.exitCode === null) return 'miss';
    return result.stdout.includes(NOTICE_MARKER) ? 'notice' : 'ok';
  }
}

/** Decides once whether the nodes are lost (see NodeWatch.confirm). */
export async function checkNodes(
  deps: ActivityDeps,
  ctx: RunContext,
  nodes: NodeRecord[],
  cluster?: ClusterInfo,
  policy?: WatchPolicy,
): Promise<NodeHealth> {
  return new NodeWatch(deps, ctx, nodes, cluster, policy).confirm();
}

/**
 * A watch function for followJob that checks the nodes at most every `everyMs`, or at once when told it is
 * urgent (a kept connection dropped). Urgency only brings a round forward: a frozen node still needs the
 * policy's consecutive misses over its window.
 */
export function nodeWatcher(
  check: () => Promise<NodeHealth>,
  onHealth: (health: NodeHealth) => Promise<void>,
  everyMs: number,
): (urgent?: boolean) => Promise<void> {
  let next = 0;
  return async (urgent = false) => {
    if (!urgent && Date.now() < next) return;
    const health = await check();
    next = Date.now() + everyMs;
    await onHealth(health);
  };
}
