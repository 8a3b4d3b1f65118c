// Runs the built CLI as a user would (its own process, exit status and both streams), and what every --json
// test checks of an error: exactly one JSON line on stderr and nothing on stdout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { TEMPORAL_ADDRESS } from './temporal';

const MAIN = resolve(__dirname, '../../src/client/main.js');

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

/** Runs `tuneforge <args>` against the test's Temporal with the worker's task queue set to `taskQueue`. */
export function runCli(taskQueue: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS, TUNEFORGE_TASK_QUEUE: taskQueue, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', fail);
    child.once('close', (status) => done({ status, stdout, stderr }));
  });
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
