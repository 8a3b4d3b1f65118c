// What every --json test checks of an error: exactly one JSON line on stderr and nothing on stdout.
import assert from 'node:assert/strict';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface JsonError {
  error: string;
  code: string;
  exitCode: number;
}

/** Parses the one JSON line on stderr; its exitCode must be the process's exit status. */
export function jsonError(result: CliResult): JsonError {
  assert.equal(result.stdout, '', 'nothing on stdout');
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  assert.equal(lines.length, 1, `one line on stderr: ${result.stderr}`);
  const parsed = JSON.parse(lines[0] ?? '') as JsonError;
  assert.deepEqual(Object.keys(parsed).sort(), ['code', 'error', 'exitCode']);
  assert.equal(parsed.exitCode, result.status, 'exitCode is the exit status');
  return parsed;
}
