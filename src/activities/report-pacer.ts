// How often a job's follower reports progress to its workflow. Each report is a signal, and a signal
// costs the run's history about four events (the signal, then a workflow task scheduled, started and
// completed): every 10 s that is ~1,400 events an hour. Often while a job warms up, when people watch
// its first steps; then once a minute, which is what an ETA needs.

export interface ReportPace {
  /** Report at the warm-up rate for this long after the follower starts on a new job. */
  warmupMs: number;
  warmupEveryMs: number;
  steadyEveryMs: number;
}

export const DEFAULT_REPORT_PACE: ReportPace = { warmupMs: 5 * 60_000, warmupEveryMs: 10_000, steadyEveryMs: 60_000 };

/** Decides, poll by poll, whether this one reports; the first poll always does. */
export class ReportPacer {
  private last: number | undefined;

  constructor(
    private readonly startedAt: number,
    private readonly pace: ReportPace = DEFAULT_REPORT_PACE,
    /** A follower that takes over a job already followed for a while starts at the steady rate. */
    private readonly warm = false,
  ) {}

  due(now: number): boolean {
    if (this.last === undefined) return true;
    const warmingUp = !this.warm && now - this.startedAt < this.pace.warmupMs;
    return now - this.last >= (warmingUp ? this.pace.warmupEveryMs : this.pace.steadyEveryMs);
  }

  reported(now: number): void {
    this.last = now;
  }
}
