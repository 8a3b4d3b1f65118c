// Small text pieces shared by the renderers: bars, durations, numbers, width fitting that skips ANSI codes.
import { stripVTControlCharacters } from 'node:util';

const FILLED = '█';
const EMPTY = '░';
const RESET = '\u001b[0m';
const ESCAPE_AT = /\u001b\[[0-9;?]*[A-Za-z]/y;

/** A bar of `width` cells, `done` of `total` filled. */
export function bar(done: number, total: number, width: number): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return FILLED.repeat(filled) + EMPTY.repeat(width - filled);
}

/** 42 -> "0:42", 3725 -> "1:02:05". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatLoss(loss: number | null): string {
  return loss === null ? 'n/a' : loss.toFixed(4);
}

export function visibleLength(line: string): number {
  return stripVTControlCharacters(line).length;
}

/** Cuts a line to `columns` visible characters (escape codes kept, an ellipsis added), so a redraw never wraps. */
export function fitWidth(line: string, columns: number): string {
  if (columns <= 0 || visibleLength(line) <= columns) return line;
  let out = '';
  let visible = 0;
  let escaped = false;
  for (let i = 0; i < line.length;) {
    ESCAPE_AT.lastIndex = i;
    const code = ESCAPE_AT.exec(line);
    if (code) {
      out += code[0];
      escaped = true;
      i += code[0].length;
      continue;
    }
    if (visible >= columns - 1) break;
    out += line[i];
    visible += 1;
    i += 1;
  }
  return `${out}…${escaped ? RESET : ''}`;
}

/** Pads to `width` visible characters (for columns whose cells may be coloured). */
export function padVisible(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}
