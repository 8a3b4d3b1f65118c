// Picks the watch renderer: NDJSON with --json, the live block on a terminal, plain lines otherwise.
import { colorEnabled, isLiveTerminal, palette } from './colors';
import { JsonRenderer } from './json-renderer';
import { PlainRenderer } from './plain-renderer';
import { TtyRenderer, type TextOut } from './tty-renderer';
import type { WatchRenderer } from './update';

export type { TextOut } from './tty-renderer';
export type { WatchEnd, WatchFailure, WatchRenderer, WatchUpdate } from './update';

export function watchRenderer(options: { json: boolean; out: TextOut; env: NodeJS.ProcessEnv }): WatchRenderer {
  const { json, out, env } = options;
  if (json) return new JsonRenderer(out);
  if (isLiveTerminal(out, env)) return new TtyRenderer(out, palette(colorEnabled(out, env)));
  return new PlainRenderer(out);
}
