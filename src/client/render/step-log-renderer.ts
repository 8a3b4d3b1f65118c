// `start --follow` output: one line per step that starts or ends and per training report, then the summary.
// Compact and append-only, for a terminal or a log alike.
import type { RunSummary, StepProgress } from '../../workflows/definitions';
import { formatSummary } from '../format';
import type { TextOut } from './tty-renderer';
import type { WatchEnd, WatchRenderer, WatchUpdate } from './update';

export interface StepLogOptions {
  now?: () => number;
}

export class StepLogRenderer implements WatchRenderer {
  /** What was last printed per step name, and the training report as "stage:step". */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly out: TextOut,
    private readonly options: StepLogOptions,
  ) {}

  update(u: WatchUpdate): void {
    const progress = u.progress;
    if (!progress) return;
    const t = progress.training;
    if (t && t.maxSteps > 0) {
      const key = `${t.stage}:${t.step}`;
      if (this.seen.get('training') !== key) {
        this.seen.set('training', key);
        const loss = t.loss === null ? '' : `, loss ${t.loss.toFixed(4)}`;
        this.print(`    ${t.stage}: step ${t.step}/${t.maxSteps}${loss}`);
      }
    }
    for (const step of progress.steps) {
      if (this.seen.get(step.name) === step.status) continue;
      this.seen.set(step.name, step.status);
      const line = this.describeStep(step);
      if (line) this.print(line);
    }
  }

  end(end: WatchEnd, last: WatchUpdate): void {
    this.update(last);
    const kept = last.progress?.keptAccess ?? [];
    if (kept.length > 0) {
      this.print('The cluster was kept for debugging (keepClusterOnFailure); log in with:');
      for (const line of kept) this.print(`  ${line}`);
    }
    // A failed or cancelled run ends without a summary: the CLI prints why and exits with the run's outcome.
    if (end.summary) this.printSummary(end.summary);
  }

  private printSummary(summary: RunSummary): void {
    this.print('');
    // JSON output is watch's (start --follow --json): this renderer is for people and logs.
    this.print(formatSummary(summary));
  }

  private describeStep(step: StepProgress): string | undefined {
    const time = new Date((this.options.now ?? Date.now)()).toISOString().slice(11, 19);
    const seconds = (step.seconds ?? 0).toFixed(1);
    switch (step.status) {
      case 'running':
        return `[${time}] ${step.name} started`;
      case 'done':
        return `[${time}] ${step.name} done in ${seconds} s${step.note ? ` (${step.note})` : ''}`;
      case 'failed':
        return `[${time}] ${step.name} FAILED after ${seconds} s: ${step.note ?? ''}`;
      default:
        return undefined;
    }
  }

  private print(line: string): void {
    this.out.write(`${line}\n`);
  }
}
