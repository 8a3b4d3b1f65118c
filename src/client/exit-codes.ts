// Maps errors to the CLI's documented exit codes, in one place.
import { ScheduleNotFoundError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import { failureText, rootCause } from '../common/failure-summary';
import { CodecKeyConfigError, PayloadDecryptError } from '../codec/errors';
import { NoArtifacts } from './commands/artifacts';
import { InvalidFilter, SearchAttributesNotRegistered } from './commands/list';
import { TemporalUnreachable } from './connection';
import { ScheduleArgsInvalid, ScheduleExists } from './commands/schedule';

export const EXIT = {
  ok: 0,
  runFailed: 1,
  invalidInput: 2,
  temporalUnreachable: 3,
  runCancelled: 4,
  notFound: 5,
} as const;

export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof ApplicationFailure && err.type === FailureType.SpecInvalid)
    return { code: EXIT.invalidInput, message: err.message };
  if (err instanceof CodecKeyConfigError || err instanceof PayloadDecryptError)
    return { code: EXIT.invalidInput, message: err.message };
  if (err instanceof InvalidFilter) return { code: EXIT.invalidInput, message: err.message };
  if (err instanceof SearchAttributesNotRegistered) return { code: EXIT.invalidInput, message: err.message };
  if (err instanceof TemporalUnreachable) return { code: EXIT.temporalUnreachable, message: err.message };
  if (err instanceof NoArtifacts) return { code: EXIT.notFound, message: err.message };
  if (err instanceof WorkflowNotFoundError) return { code: EXIT.notFound, message: `no run with id ${err.workflowId}` };
  if (err instanceof ScheduleArgsInvalid || err instanceof ScheduleExists)
    return { code: EXIT.invalidInput, message: err.message };
  if (err instanceof ScheduleNotFoundError)
    return { code: EXIT.notFound, message: `no schedule with id ${err.scheduleId} (tuneforge schedule list shows them)` };
  if (err instanceof WorkflowFailedError) {
    if (rootCause(err) instanceof CancelledFailure)
      return { code: EXIT.runCancelled, message: 'the run was cancelled; its cluster was torn down' };
    return { code: EXIT.runFailed, message: `the run failed: ${failureText(err)}` };
  }
  return { code: EXIT.runFailed, message: err instanceof Error ? err.message : String(err) };
}
