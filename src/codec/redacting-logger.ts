// A Temporal Logger wrapper that drops error messages and stacks from log metadata: failures can carry secrets
// (the SDK logs "Activity failed" / "Workflow failed" with the error), so with encryption on only their types remain.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

/** Metadata keys whose string values are error text. */
const ERROR_TEXT_KEYS = new Set(['error', 'err', 'failure', 'cause', 'stack', 'stackTrace', 'stack_trace']);
const MAX_CAUSE_DEPTH = 8;
export const REDACTED = '[redacted]';

export interface ErrorSummary {
  name: string;
  type?: string;
  cause?: ErrorSummary;
  message: typeof REDACTED;
}

export function redactingLogger(inner: Logger): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): unknown => inner.log(level, message, redactMeta(meta));
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

export function redactMeta(meta: LogMetadata | undefined): LogMetadata | undefined {
  if (meta === undefined) return undefined;
  const out: LogMetadata = { ...meta }; // keeps symbol keys such as the SDK's LogTimestamp
  for (const key of Object.keys(out)) {
    const value: unknown = out[key];
    if (isErrorLike(value)) out[key] = summarizeError(value, 0);
    else if (ERROR_TEXT_KEYS.has(key) && value !== undefined && value !== null) out[key] = REDACTED;
  }
  return out;
}

/** Errors from the workflow sandbox come from another realm, so `instanceof Error` would miss them. */
function isErrorLike(value: unknown): value is { name?: unknown; type?: unknown; cause?: unknown; message: unknown } {
  return typeof value === 'object' && value !== null && 'message' in value && ('stack' in value || value instanceof Error);
}

function summarizeError(err: { name?: unknown; type?: unknown; cause?: unknown }, depth: number): ErrorSummary {
  const summary: ErrorSummary = { name: typeof err.name === 'string' ? err.name : 'Error', message: REDACTED };
  if (typeof err.type === 'string') summary.type = err.type;
  if (depth < MAX_CAUSE_DEPTH && isErrorLike(err.cause)) summary.cause = summarizeError(err.cause, depth + 1);
  return summary;
}
