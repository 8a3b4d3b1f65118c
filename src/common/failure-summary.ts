// What went wrong, in one place for the workflow, the CLI and the reaper: an activity or workflow failure's
// own message is generic ("Activity task failed"); the root cause's type and message say what happened.
// Pure: the workflow uses it.
import { ApplicationFailure } from '@temporalio/common';

export interface FailureSummary {
  /** The failure type (e.g. TrainingFailed), or the error's name when it has none. */
  type: string;
  message: string;
}

/** The innermost cause of a failure chain. */
export function rootCause(err: unknown): unknown {
  let cause = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return cause;
}

export function summarizeFailure(err: unknown): FailureSummary {
  const cause = rootCause(err);
  if (cause instanceof ApplicationFailure && cause.type) return { type: cause.type, message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}

/** "Type: message", for notes, details and records. */
export function failureText(err: unknown): string {
  const { type, message } = summarizeFailure(err);
  return `${type}: ${message}`;
}
