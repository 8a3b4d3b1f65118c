// Nodes launched while training goes on: a new standby after one was used, or the nodes a shrunk run grows
// back with. Each launch stages the run's data from the master and is settled (cancelled and waited for)
// before the run tears its cluster down, so no node is made after teardown listed the cluster.
import { CancellationScope, isCancellation, log } from '@temporalio/workflow';
import type { ImageRecord, NodeRecord, RunContext } from '../activities/types';
import { stageRunInputs } from './run-inputs';
import type { SpendMeter } from './spend';
import { steps } from './steps';

export class BackgroundLaunch {
  private pending: { scope: CancellationScope; done: Promise<void> } | undefined;
  private ready: NodeRecord[] = [];

  constructor(
    private readonly what: string,
    private readonly ctx: RunContext,
    private readonly image: ImageRecord,
    private readonly spend: SpendMeter,
  ) {}

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Launches the named nodes from the run's image and stages the run's data on them from `master`. */
  start(names: string[], master: NodeRecord): void {
    if (names.length === 0 || this.pending) return;
    const scope = new CancellationScope();
    const done = scope.run(async () => {
      const launched = await steps.provisioning.launchWorkers.executeWithOptions(
        { summary: `launch ${this.what} ${names.join(', ')} in the background` },
        [{ ...this.ctx, image: this.image, names }],
      );
      this.spend.launched(launched);
      await stageRunInputs(this.ctx, launched, master);
      this.ready.push(...launched);
    });
    this.pending = {
      scope,
      done: done.then(
        () => {
          this.pending = undefined;
        },
        (err: unknown) => {
          this.pending = undefined;
          // Its nodes, if any were made, are the cluster's: teardown finds them by tag.
          if (!isCancellation(err)) log.warn(`could not launch ${this.what}; the run goes on without it`, { error: String(err) });
        },
      ),
    };
  }

  /** Nodes launched since the last take. */
  take(): NodeRecord[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /** Waits for a launch in flight (a hand-over carries its nodes to the next run). */
  async settle(): Promise<void> {
    await this.pending?.done;
  }

  /** Cancels a launch in flight and waits until its activity has stopped. */
  async stop(): Promise<void> {
    this.pending?.scope.cancel();
    await this.pending?.done;
  }
}
