// The logs verb's "not found" (exit 5), in a module of its own: exit-codes.ts maps it, and logs.ts imports the
// option parsers that import exit-codes.ts.

/** The run has no logs (yet), or none of the node or rank asked for. */
export class LogsNotFound extends Error {
  override readonly name = 'LogsNotFound';
}
