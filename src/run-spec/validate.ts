// Turns unknown input into a RunSpec, or a list of problems that each name a field path and the reason.
import type { z } from 'zod';
import type { SpecProblem } from '../common/errors';
import { runSpecSchema, type RunSpec } from './schema';

export type SpecResult = { ok: true; spec: RunSpec } | { ok: false; problems: SpecProblem[] };

export function validateRunSpec(input: unknown): SpecResult {
  // Control characters (a NUL above all) pass every pattern that allows "any text" and fail far later on a node.
  const controls = stringsWithControls(input, []);
  if (controls.length > 0) return { ok: false, problems: controls };
  const parsed = runSpecSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => describeIssue(matchedBranchIssue(issue))) };
}

/**
 * A union of object forms (e.g. `{ hub, split }` or `{ path }`) whose input matched one form's fields but
 * failed inside it: report that form's own problem at its own path, not "Invalid input" at the union.
 */
function matchedBranchIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const matched = issue.errors.find(
    (branch) => branch.length > 0 && branch.every((i) => i.code !== 'unrecognized_keys' && i.path.length > 0),
  );
  const [first] = matched ?? [];
  if (!matched || !first || issue.errors.filter((b) => b === matched).length !== 1) return issue;
  return matchedBranchIssue({ ...first, path: [...issue.path, ...first.path] });
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function stringsWithControls(value: unknown, path: string[]): SpecProblem[] {
  const here = path.length === 0 ? '(spec)' : path.join('.');
  if (typeof value === 'string')
    return CONTROL_CHARACTERS.test(value)
      ? [{ path: here, message: `has a control character${secretPath(path) ? '' : ` (got ${preview(value)})`}` }]
      : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsWithControls(v, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      CONTROL_CHARACTERS.test(k)
        ? [{ path: here, message: `has a field name with a control character (${JSON.stringify(k)})` }]
        : stringsWithControls(v, [...path, k]),
    );
  }
  return [];
}

function describeIssue(issue: z.core.$ZodIssue): SpecProblem {
  const path = issue.path.length === 0 ? '(spec)' : issue.path.map(String).join('.');
  const shown = 'input' in issue && issue.input !== undefined && !secretPath(issue.path.map(String));
  const got = shown ? ` (got ${preview(issue.input)})` : '';
  return { path, message: escapeControls(`${friendlyMessage(issue)}${got}`) };
}

function friendlyMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.join(', ')}`;
    case 'invalid_key':
      return `invalid name: ${issue.issues[0]?.message ?? issue.message}`;
    case 'invalid_value':
      return issue.input === undefined ? `is required: ${issue.message}` : issue.message;
    case 'invalid_union': {
      // A union of a short form and a long form: report the branch whose type matched, not "Invalid input".
      const matched = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.code !== 'invalid_type'));
      return matched?.[0]?.message ?? issue.message;
    }
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return issue.expected === 'int' ? 'must be a whole number' : `must be a ${issue.expected}`;
    default:
      return issue.message;
  }
}

/** Messages echo user input: a terminal must never receive its control characters raw. */
function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The notify block holds a webhook URL, a secret: its problems never quote what was written. */
function secretPath(path: readonly string[]): boolean {
  return path[0] === 'notify';
}

function preview(input: unknown): string {
  // A problem of the whole spec quotes its start, which may be the notify block.
  const value = input !== null && typeof input === 'object' && 'notify' in input ? { ...input, notify: '[redacted]' } : input;
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
