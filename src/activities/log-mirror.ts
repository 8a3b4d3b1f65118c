// Keeps the store's copy of a running job's log recent: one upload at a time, at most once per interval,
// never awaited by the follower's loop (a slow store must not slow the follow) and never failing it.

/** How often a followed job's log goes to the store while it runs, unless the worker's deps say otherwise. */
export const LOG_UPLOAD_EVERY_MS = 3 * 60_000;

export class LogMirror {
  private last = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly upload: () => Promise<void>,
    private readonly everyMs: number,
    private readonly warn: (message: string, error: string) => void,
  ) {}

  /** Starts an upload if the last one began an interval ago and has finished; the first one at once. */
  tick(now: number): void {
    if (this.inFlight || now - this.last < this.everyMs) return;
    this.last = now;
    this.inFlight = this.upload()
      .catch((err: unknown) => this.warn('could not upload the job log to the store; trying again later', String(err)))
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  /** Waits for the upload in flight, if any (its failure was already reported). */
  async settle(): Promise<void> {
    await this.inFlight;
  }
}
