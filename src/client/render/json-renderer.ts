// Watch output for scripts: one JSON object per line (NDJSON) per change, then the result or the failure.
import type { TextOut } from './tty-renderer';
import { changeKey, type WatchEnd, type WatchRenderer, type WatchUpdate } from './update';

export type WatchEvent =
  ({ type: 'progress'; time: string } & WatchUpdate) | ({ type: 'result' | 'failure'; time: string } & WatchEnd);

export class JsonRenderer implements WatchRenderer {
  private lastKey: string | undefined;

  constructor(
    private readonly out: TextOut,
    private readonly now: () => number = Date.now,
  ) {}

  update(u: WatchUpdate): void {
    const key = changeKey(u);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.emit({ type: 'progress', time: this.time(), ...u });
  }

  end(end: WatchEnd, last: WatchUpdate): void {
    this.update({ ...last, status: end.status });
    this.emit({ type: end.failure ? 'failure' : 'result', time: this.time(), ...end });
  }

  private time(): string {
    return new Date(this.now()).toISOString();
  }

  private emit(event: WatchEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }
}
