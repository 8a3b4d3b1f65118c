// Redraws the watch block in place on a terminal (cursor up, erase down), then prints the summary at the end.
import { formatSummary } from '../format';
import { statusColor, type Palette } from './colors';
import { fitWidth } from './text';
import { ttyBlock } from './tty-block';
import type { WatchEnd, WatchRenderer, WatchUpdate } from './update';

export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
  /** 0 or undefined when the terminal reports no size (e.g. a pty nobody sized). */
  columns?: number;
}

const DEFAULT_COLUMNS = 80;
const ESC = '\u001b[';

export class TtyRenderer implements WatchRenderer {
  private drawnLines = 0;

  constructor(
    private readonly out: TextOut,
    private readonly p: Palette,
    private readonly now: () => number = Date.now,
  ) {}

  update(u: WatchUpdate): void {
    this.draw(ttyBlock(u, this.p, this.now()));
  }

  end(end: WatchEnd, last: WatchUpdate): void {
    this.draw(ttyBlock({ ...last, status: end.status }, this.p, this.now()));
    this.drawnLines = 0;
    const outcome = statusColor(this.p, end.status)(end.status);
    if (end.summary) this.out.write(`\n${formatSummary(end.summary)}\n`);
    else this.out.write(`Run ended: ${outcome}${end.failure ? ` (${end.failure.type})` : ''}\n`);
  }

  private draw(lines: string[]): void {
    const columns = this.out.columns || DEFAULT_COLUMNS;
    // Lines are cut to the width so none wraps: the cursor-up count must equal the lines drawn.
    const erase = this.drawnLines > 0 ? `\r${ESC}${this.drawnLines}A${ESC}J` : '';
    this.out.write(erase + lines.map((line) => fitWidth(line, columns)).join('\n') + '\n');
    this.drawnLines = lines.length;
  }
}
