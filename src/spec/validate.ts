// Turns unknown input into a RunSpec, or a list of problems that each name a field path and the reason.
import type { z } from 'zod';
import type { SpecProblem } from '../common/errors';
import { runSpecSchema, type RunSpec } from './schema';

export type SpecResult = { ok: true; spec: RunSpec } | { ok: false; problems: SpecProblem[] };

export function validateRunSpec(input: unknown): SpecResult {
  const parsed = runSpecSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, problems: parsed.error.issues.map(describeIssue) };
}

function describeIssue(issue: z.core.$ZodIssue): SpecProblem {
  const path = issue.path.length === 0 ? '(spec)' : issue.path.map(String).join('.');
  const got = 'input' in issue && issue.input !== undefined ? ` (got ${preview(issue.input)})` : '';
  return { path, message: `${friendlyMessage(issue)}${got}` };
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

function preview(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
