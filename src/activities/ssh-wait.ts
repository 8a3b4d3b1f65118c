// Waits until freshly launched nodes answer SSH, each for as long as its instance family may take to
// boot, and tells the run while it waits: the pending activity's heartbeat details and a progress
// update ("waiting for master: 7 min, metal boots take up to 20 min") show in the Web UI and `watch`.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { formatWait, longestBootWait } from '../cluster/boot-times';
import { nodeUnreachable } from '../common/errors';
import { mapBounded } from '../common/map-bounded';
import type { NodeRecord } from '../providers/provider';
import { clusterRef, targetFor, type ActivityDeps } from './deps';
import type { RunContext } from './types';

/** A node that answers within this long is not worth a report. */
export const FIRST_REPORT_AFTER_MS = 3000;
const REPORT_EVERY_MS = 60_000;
/** Nodes waited on at once; each wait that answers leaves a kept connection the next steps reuse. */
const SSH_WAIT_CONCURRENCY = 16;
/**
 * Once EC2 reaches a node's OS, sshd follows within a minute or two (cloud-init starts it early); three
 * minutes more of SSH failures is the network path, not the boot, and waiting out a metal node's 30-minute
 * SSH budget would only bill it.
 */
export const DEFAULT_UNREACHABLE_AFTER_MS = 3 * 60_000;
const DEFAULT_REACHABILITY_POLL_MS = 15_000;

function unreachablePolicy(deps: ActivityDeps): { afterMs: number; pollMs: number } {
  if (deps.unreachable) return deps.unreachable;
  const seconds = Number(process.env.TUNEFORGE_UNREACHABLE_AFTER_S);
  return {
    afterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_UNREACHABLE_AFTER_MS,
    pollMs: DEFAULT_REACHABILITY_POLL_MS,
  };
}

export class SshWait {
  private describe: (() => string) | undefined;

  constructor(
    private readonly deps: ActivityDeps,
    private readonly ctx: RunContext,
    /** The run's step, as progress updates name it ("provision-master"). */
    private readonly stage: string,
  ) {}

  /** For keepAlive: what the pending activity shows while nodes boot. */
  readonly details = (): { waiting: string } | undefined => (this.describe ? { waiting: this.describe() } : undefined);

  async untilReady(nodes: NodeRecord[]): Promise<void> {
    if (nodes.length === 0) return;
    const activity = Context.current();
    const started = Date.now();
    const pending = new Set(nodes.map((n) => n.name));
    const describe = (): string => {
      const waiting = nodes.filter((n) => pending.has(n.name));
      return `waiting for ${[...pending].join(', ')}: ${formatWait(Date.now() - started)}, ${longestBootWait(waiting).expectation}`;
    };
    let inFlight: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const schedule = (afterMs: number): void => {
      timer = setTimeout(() => {
        if (pending.size === 0) return;
        this.describe = describe;
        inFlight = this.reportProgress(activity, describe());
        void inFlight.then(() => schedule(REPORT_EVERY_MS));
      }, afterMs);
    };
    schedule(FIRST_REPORT_AFTER_MS);
    // Ends the SSH waits on cancellation, or when the reachability watch has its verdict.
    const stop = new AbortController();
    const cancelled = (): void => stop.abort(activity.cancellationSignal.reason);
    activity.cancellationSignal.addEventListener('abort', cancelled, { once: true });
    try {
      const waits = mapBounded(nodes, SSH_WAIT_CONCURRENCY, async (node) => {
        const wait = longestBootWait([node]);
        await this.deps.remote.waitReady(await targetFor(this.deps, this.ctx, node), wait.sshReadyMs, stop.signal);
        pending.delete(node.name);
      });
      await Promise.race([waits, this.watchReachability(nodes, pending, stop.signal)]);
    } finally {
      stop.abort();
      activity.cancellationSignal.removeEventListener('abort', cancelled);
      clearTimeout(timer);
      this.describe = undefined;
    }
    if (inFlight) {
      await inFlight;
      clearTimeout(timer);
      await this.reportProgress(
        activity,
        `${nodes.map((n) => n.name).join(', ')} answered SSH after ${formatWait(Date.now() - started)}`,
      );
    }
  }

  /**
   * Rejects NodeUnreachable when a node EC2 calls reachable still does not answer SSH after the policy's
   * delay; rejects with the abort reason when stopped; never resolves. Providers without such a check
   * (local nodes) leave the SSH waits to their own budget.
   */
  private async watchReachability(nodes: NodeRecord[], pending: Set<string>, signal: AbortSignal): Promise<never> {
    const provider = this.deps.providerFor(this.ctx.spec);
    if (!provider.reachability) {
      signal.throwIfAborted();
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    }
    const policy = unreachablePolicy(this.deps);
    const passedAt = new Map<string, number>();
    for (;;) {
      await sleep(policy.pollMs, undefined, { signal });
      const names = nodes.filter((n) => pending.has(n.name)).map((n) => n.name);
      if (names.length === 0) continue;
      let answer;
      try {
        answer = await provider.reachability(clusterRef(this.ctx), names, { signal });
      } catch (err) {
        signal.throwIfAborted();
        // Informational: the SSH wait's own budget still bounds the wait.
        Context.current().log.warn("could not read the nodes' reachability", { error: String(err) });
        continue;
      }
      const now = Date.now();
      for (const node of nodes.filter((n) => pending.has(n.name))) {
        if (answer.nodes[node.name] !== 'passed') passedAt.delete(node.name);
        else if (!passedAt.has(node.name)) passedAt.set(node.name, now);
        const since = passedAt.get(node.name);
        if (since === undefined || now - since < policy.afterMs) continue;
        throw nodeUnreachable({
          node: node.name,
          address: `${node.address}:${node.sshPort}`,
          sshCidr: answer.sshCidr ?? 'none (the group has no SSH rule)',
          waitedSeconds: Math.round((now - since) / 1000),
        });
      }
    }
  }

  private async reportProgress(activity: Context, message: string): Promise<void> {
    const workflowId = activity.info.workflowExecution?.workflowId;
    if (!workflowId) return;
    try {
      await this.deps.reportProgress(workflowId, {
        stage: this.stage,
        step: 0,
        maxSteps: 0,
        loss: null,
        lastCheckpoint: null,
        message,
      });
    } catch (err) {
      // Informational: a failed report must not fail the launch.
      activity.log.warn('could not report the boot wait to the workflow', { error: String(err) });
    }
  }
}
