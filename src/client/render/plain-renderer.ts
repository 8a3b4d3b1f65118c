// Watch output for pipes and logs: one plain line per change, no escape codes, no carriage returns.
import { formatSummary } from '../format';
import { formatDuration, formatLoss } from './text';
import { changeKey, recoveries, stepCounts, type WatchEnd, type WatchRenderer, type WatchUpdate } from './update';
import type { TextOut } from './tty-renderer';

export function plainLine(u: WatchUpdate, now: Date): string {
  const parts = [`[${now.toISOString().slice(11, 19)}]`, u.status];
  const p = u.progress;
  if (!u.answered) parts.push(p ? '(no answer from the run; last known state)' : '(waiting for the run to answer)');
  if (p) {
    const { done, total, current } = stepCounts(p);
    parts.push(`stage ${p.stage}`, `steps ${done}/${total}${current ? ` ${current}` : ''}`);
    const t = p.training;
    if (t && t.maxSteps > 0) {
      const eta = u.rate ? ` eta ${formatDuration(u.rate.etaSeconds)}` : '';
      parts.push(`${t.stage} ${t.step}/${t.maxSteps} loss ${formatLoss(t.loss)}${eta}`);
    }
    if (p.nodes.length > 0) parts.push(`nodes ${p.nodes.map((n) => `${n.name}:${n.state}`).join(',')}`);
    if (recoveries(p)) parts.push(recoveries(p));
    if (p.error) parts.push(`error: ${p.error.split('\n')[0] ?? ''}`);
  }
  return parts.join('  ');
}

export class PlainRenderer implements WatchRenderer {
  private lastKey: string | undefined;

  constructor(
    private readonly out: TextOut,
    private readonly now: () => number = Date.now,
  ) {}

  update(u: WatchUpdate): void {
    const key = changeKey(u);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.out.write(`${plainLine(u, new Date(this.now()))}\n`);
  }

  end(end: WatchEnd, last: WatchUpdate): void {
    this.update({ ...last, status: end.status });
    if (end.summary) this.out.write(`\n${formatSummary(end.summary)}\n`);
    else
      this.out.write(
        `Run ended: ${end.status}${end.failure ? ` (${end.failure.type}: ${end.failure.message.split('\n')[0] ?? ''})` : ''}\n`,
      );
  }
}
