// Maps errors to the CLI's documented exit codes, in one place: one code per kind of cause, whoever found it
// (the CLI before it contacts anything, or the worker during the run). docs/cli.md shows EXIT_CODES as a table.
import { TemporalProfileInvalid } from '../common/temporal-profile';
import {
  ScheduleNotFoundError,
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { CommanderError } from 'commander';
import { FailureType } from '../common/errors';
import { rootCause, summarizeFailure } from '../common/failure-summary';
import { CodecKeyConfigError, PayloadDecryptError } from '../codec/errors';
import { NoArtifacts } from './commands/artifacts';
import { LogsNotFound } from './commands/logs-not-found';
import { InvalidFilter, SearchAttributesNotRegistered } from './commands/list';
import { TemporalUnreachable } from './connection';
import { NotAFineTuneSchedule, ScheduleArgsInvalid, ScheduleExists } from './commands/schedule';

export const EXIT = {
  ok: 0,
  runFailed: 1,
  invalidInput: 2,
  temporalUnreachable: 3,
  runCancelled: 4,
  notFound: 5,
  error: 6,
} as const;

/** The documented meaning of each code (docs/cli.md's table; a test keeps the two the same). */
export const EXIT_CODES: ReadonlyArray<{ code: number; name: keyof typeof EXIT; meaning: string }> = [
  { code: EXIT.ok, name: 'ok', meaning: 'done (a followed run completed)' },
  { code: EXIT.runFailed, name: 'runFailed', meaning: 'the run failed, timed out or was terminated (its failure type says why)' },
  {
    code: EXIT.invalidInput,
    name: 'invalidInput',
    meaning:
      'the input is invalid: usage, options, the spec or its data, refused by the CLI or by the worker during the run (SpecInvalid, DataChanged)',
  },
  {
    code: EXIT.temporalUnreachable,
    name: 'temporalUnreachable',
    meaning: 'cannot connect or authenticate to Temporal (address, TLS, API key, namespace)',
  },
  { code: EXIT.runCancelled, name: 'runCancelled', meaning: 'the run was cancelled (its cluster was torn down)' },
  { code: EXIT.notFound, name: 'notFound', meaning: 'no such run, schedule or artifact' },
  { code: EXIT.error, name: 'error', meaning: 'anything else (an unexpected error; the message says what)' },
];

/** Failure types that say the run's input was wrong, not that the run broke: they exit like the CLI's refusal. */
export const INPUT_FAILURES: readonly string[] = [FailureType.SpecInvalid, FailureType.DataChanged];

/** gRPC status codes that mean the connection or its credentials, not the command (grpc-js Status). */
const GRPC_CONNECTION: Record<number, string> = {
  7: 'TemporalPermissionDenied',
  14: 'TemporalUnreachable',
  16: 'TemporalUnauthenticated',
};

export interface DescribedError {
  /** The exit code. */
  code: number;
  /** The kind of cause, for scripts: a failure type (SpecInvalid, TrainingFailed) or an error name. */
  type: string;
  message: string;
}

export function describeError(err: unknown): DescribedError {
  if (err instanceof ApplicationFailure && err.type && INPUT_FAILURES.includes(err.type))
    return { code: EXIT.invalidInput, type: err.type, message: err.message };
  if (err instanceof WorkflowFailedError) return describeRunFailure(err);
  if (err instanceof CommanderError)
    return { code: err.exitCode === 0 ? EXIT.ok : EXIT.invalidInput, type: 'UsageError', message: commanderMessage(err) };
  const invalid = [
    CodecKeyConfigError,
    PayloadDecryptError,
    InvalidFilter,
    SearchAttributesNotRegistered,
    ScheduleArgsInvalid,
    ScheduleExists,
    NotAFineTuneSchedule,
    TemporalProfileInvalid,
  ];
  if (invalid.some((kind) => err instanceof kind)) return named(EXIT.invalidInput, err as Error);
  if (err instanceof TemporalUnreachable) return named(EXIT.temporalUnreachable, err);
  if (err instanceof NoArtifacts || err instanceof LogsNotFound) return named(EXIT.notFound, err);
  if (err instanceof WorkflowNotFoundError)
    return { code: EXIT.notFound, type: 'WorkflowNotFound', message: `no run with id ${err.workflowId}` };
  if (err instanceof ScheduleNotFoundError)
    return {
      code: EXIT.notFound,
      type: 'ScheduleNotFound',
      message: `no schedule with id ${err.scheduleId} (tuneforge schedule list shows them)`,
    };
  const connection = connectionProblem(err);
  if (connection) return connection;
  return {
    code: EXIT.error,
    type: err instanceof Error ? err.name : 'Error',
    message: err instanceof Error ? err.message : String(err),
  };
}

function describeRunFailure(err: WorkflowFailedError): DescribedError {
  if (rootCause(err) instanceof CancelledFailure)
    return { code: EXIT.runCancelled, type: 'Cancelled', message: 'the run was cancelled; its cluster was torn down' };
  const { type, message } = summarizeFailure(err);
  const code = INPUT_FAILURES.includes(type) ? EXIT.invalidInput : EXIT.runFailed;
  return { code, type, message: `the run failed: ${type}: ${message}` };
}

/** A call the server refused for the connection's sake (credentials, rights, a namespace it does not have). */
function connectionProblem(err: unknown): DescribedError | undefined {
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (!isGrpcServiceError(grpc)) return undefined;
  const type =
    GRPC_CONNECTION[grpc.code] ?? (grpc.code === 5 && /namespace/i.test(grpc.details) ? 'NamespaceNotFound' : undefined);
  if (type === undefined) return undefined;
  return { code: EXIT.temporalUnreachable, type, message: `Temporal refused the call: ${grpc.details || grpc.message}` };
}

function named(code: number, err: Error): DescribedError {
  return { code, type: err.name, message: err.message };
}

/** Commander's own text starts "error: "; the CLI prefixes "tuneforge: " itself. */
function commanderMessage(err: CommanderError): string {
  return err.message.replace(/^error: /, '');
}
