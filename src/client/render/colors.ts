// Colour policy for CLI output: colours only on a terminal, never with NO_COLOR or TERM=dumb; picocolors makes the codes.
import picocolors from 'picocolors';
import type { Colors, Formatter } from 'picocolors/types';

export type Palette = Colors & { identity: Formatter };

export interface OutputTarget {
  isTTY?: boolean;
  columns?: number;
}

/** A terminal that can take cursor movement (the live block); TERM=dumb cannot. */
export function isLiveTerminal(target: OutputTarget, env: NodeJS.ProcessEnv): boolean {
  return target.isTTY === true && env.TERM !== 'dumb';
}

/** https://no-color.org: NO_COLOR set to anything but the empty string turns colours off. */
export function colorEnabled(target: OutputTarget, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isLiveTerminal(target, env);
}

// picocolors decides by itself from argv, CI and FORCE_COLOR; createColors(enabled) keeps the decision ours.
export function palette(enabled: boolean): Palette {
  return { ...picocolors.createColors(enabled), identity: (text) => String(text ?? '') };
}

/** Colour of a run status (Temporal's names: RUNNING, COMPLETED, FAILED, ...). */
export function statusColor(p: Palette, status: string): Formatter {
  switch (status) {
    case 'RUNNING':
      return p.cyan;
    case 'COMPLETED':
      return p.green;
    case 'CANCELLED':
      return p.yellow;
    case 'FAILED':
    case 'TERMINATED':
    case 'TIMED_OUT':
      return p.red;
    default:
      return p.identity;
  }
}

type ColorName = Exclude<keyof Colors, 'isColorSupported'>;

const STEP_COLORS: Record<string, ColorName> = { done: 'green', running: 'cyan', pending: 'dim', skipped: 'dim', failed: 'red' };
// src/providers/provider.ts NodeState
const NODE_COLORS: Record<string, ColorName> = {
  running: 'green',
  pending: 'yellow',
  stopping: 'yellow',
  terminated: 'dim',
  unknown: 'red',
};

/** Colour of a step status or a node state; anything unknown is left plain. */
export function stateColor(p: Palette, state: string, kind: 'step' | 'node' = 'step'): Formatter {
  const colors = kind === 'step' ? STEP_COLORS : NODE_COLORS;
  const name = Object.hasOwn(colors, state) ? colors[state] : undefined;
  return name === undefined ? p.identity : p[name];
}
