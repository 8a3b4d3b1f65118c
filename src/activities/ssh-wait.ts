// Waits until freshly launched nodes answer SSH, each for as long as its instance family may take to
// boot, and tells the run while it waits: the pending activity's heartbeat details and a progress
// update ("waiting for master: 7 min, metal boots take up to 20 min") show in the Web UI and `watch`.
import { Context } from '@temporalio/activity';
import { formatWait, longestBootWait } from '../cluster/boot-times';
import { mapBounded } from '../common/map-bounded';
import type { NodeRecord } from '../providers/provider';
import { targetFor, type ActivityDeps } from './deps';
import type { RunContext } from './types';

/** A node that answers within this long is not worth a report. */
export const FIRST_REPORT_AFTER_MS = 3000;
const REPORT_EVERY_MS = 60_000;
/** Nodes waited on at once; each wait that answers leaves a kept connection the next steps reuse. */
const SSH_WAIT_CONCURRENCY = 16;

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
    try {
      await mapBounded(nodes, SSH_WAIT_CONCURRENCY, async (node) => {
        const wait = longestBootWait([node]);
        await this.deps.remote.waitReady(
          await targetFor(this.deps, this.ctx, node),
          wait.sshReadyMs,
          activity.cancellationSignal,
        );
        pending.delete(node.name);
      });
    } finally {
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
