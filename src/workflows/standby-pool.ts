// The run's warm standby nodes: launched from the run's image with the data staged, idle until a loss.
// A standby used by a recovery is replaced in the background while training goes on; the launch is
// settled (cancelled and waited for) before the run tears its cluster down, so no node is made after it.
import { CancellationScope, isCancellation, log } from '@temporalio/workflow';
import type { ImageRecord, NodeRecord, RunContext } from '../activities/types';
import { standbyNames } from '../common/node-names';
import { stageRunInputs } from './run-inputs';
import type { SpendMeter } from './spend';
import { steps } from './steps';

export class StandbyRefill {
  private pending: { scope: CancellationScope; done: Promise<void> } | undefined;
  private ready: NodeRecord[] = [];

  constructor(
    private readonly ctx: RunContext,
    private readonly image: ImageRecord,
    private readonly spend: SpendMeter,
  ) {}

  /** Launches `count` standbys named from `firstNumber` on, staging the run's data from the master. */
  start(count: number, firstNumber: number, master: NodeRecord): void {
    if (count <= 0 || this.pending) return;
    const names = standbyNames(count, firstNumber);
    const scope = new CancellationScope();
    const done = scope.run(async () => {
      const launched = await steps.provisioning.launchWorkers.executeWithOptions(
        { summary: `launch standby ${names.join(', ')} in the background` },
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
          if (!isCancellation(err)) log.warn('a standby could not be launched; the run goes on without it', { error: String(err) });
        },
      ),
    };
  }

  /** Standbys launched since the last take. */
  take(): NodeRecord[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /** Waits for a launch in flight (a hand-over carries its standbys to the next run). */
  async settle(): Promise<void> {
    await this.pending?.done;
  }

  /** Cancels a launch in flight and waits until its activity has stopped. */
  async stop(): Promise<void> {
    this.pending?.scope.cancel();
    await this.pending?.done;
  }
}
