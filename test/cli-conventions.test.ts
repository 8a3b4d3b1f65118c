// The CLI's conventions that need no Temporal server: --version, the exit code table (code and docs agree),
// one exit code per kind of cause (the worker's SpecInvalid exits like the CLI's), and --json errors as one
// JSON line on stderr with nothing else, run as a user runs the built CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ServiceError, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describeError, EXIT, EXIT_CODES } from '../src/client/exit-codes';
import { FailureType } from '../src/common/errors';
import { packageRoot } from '../src/common/package-root';
import { jsonError, type CliResult } from './helpers/cli-json';

const MAIN = resolve(__dirname, '../src/client/main.js');
const folder = mkdtempSync(join(tmpdir(), 'cli-conventions-'));
/** Nothing listens here: a command that needs Temporal fails to connect, fast. */
const NOWHERE = '127.0.0.1:1';

function tuneforge(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: NOWHERE, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function specFile(name: string, text: string): string {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

describe('tuneforge --version', () => {
  it('prints the package version with the build details, and version --json the same as JSON', () => {
    for (const flag of ['--version', '-V']) {
      const result = tuneforge([flag]);
      assert.equal(result.status, EXIT.ok, result.stderr);
      assert.match(result.stdout, new RegExp(`^tuneforge ${version.replace(/\./g, '\\.')} \\(built \\d{4}-\\d\\d-\\d\\dT`));
      assert.match(result.stdout, new RegExp(`node ${process.version} ${process.platform}-${process.arch}; Temporal SDK 1\\.`));
    }
    const json = tuneforge(['version', '--json']);
    assert.equal(json.status, EXIT.ok);
    const info = JSON.parse(json.stdout) as { version: string; node: string; temporalSdk: string; builtAt: string };
    assert.deepEqual([info.version, info.node], [version, process.version]);
    assert.match(info.temporalSdk, /^\d+\.\d+\.\d+$/);
    assert.ok(!Number.isNaN(Date.parse(info.builtAt)));
  });
});

describe('exit codes', () => {
  it('docs/cli.md lists exactly the codes of EXIT_CODES', () => {
    const doc = readFileSync(join(packageRoot(), 'docs/cli.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| *(\d+) \| (\w+) \| (.+?) \|$/gm)].map((m) => [Number(m[1]), m[2], m[3]]);
    assert.deepEqual(
      rows,
      EXIT_CODES.map((e) => [e.code, e.name, e.meaning]),
    );
    assert.deepEqual(
      EXIT_CODES.map((e) => [e.name, e.code]),
      Object.entries(EXIT),
      'every code documented once, in order',
    );
  });

  it('a run the worker refused for its input (SpecInvalid, DataChanged) exits 2 like the CLI refusal; others 1', () => {
    const runFailed = (type: string) =>
      new WorkflowFailedError(
        'Workflow execution failed',
        new ActivityFailure(
          'Activity task failed',
          'stageData',
          '1',
          RetryState.NON_RETRYABLE_FAILURE,
          undefined,
          ApplicationFailure.create({ type, message: `bad ${type}`, nonRetryable: true }),
        ),
        RetryState.NON_RETRYABLE_FAILURE,
      );
    assert.deepEqual(describeError(runFailed(FailureType.SpecInvalid)), {
      code: EXIT.invalidInput,
      type: 'SpecInvalid',
      message: 'the run failed: SpecInvalid: bad SpecInvalid',
    });
    assert.equal(describeError(runFailed(FailureType.DataChanged)).code, EXIT.invalidInput);
    assert.equal(describeError(runFailed(FailureType.TrainingFailed)).code, EXIT.runFailed);
    assert.equal(describeError(runFailed(FailureType.BudgetExceeded)).type, 'BudgetExceeded');
    assert.equal(describeError(new Error('disk full')).code, EXIT.error);
  });

  it('a server refusing the credentials or the namespace exits 3', () => {
    const grpc = (code: number, details: string) =>
      new ServiceError('call failed', { cause: Object.assign(new Error(details), { code, details, metadata: {} }) });
    assert.deepEqual(
      [16, 7, 14].map((code) => describeError(grpc(code, 'nope')).code),
      [EXIT.temporalUnreachable, EXIT.temporalUnreachable, EXIT.temporalUnreachable],
    );
    assert.deepEqual(describeError(grpc(5, 'Namespace team-a is not found.')), {
      code: EXIT.temporalUnreachable,
      type: 'NamespaceNotFound',
      message: 'Temporal refused the call: Namespace team-a is not found.',
    });
    assert.equal(describeError(grpc(13, 'internal')).code, EXIT.error);
  });
});

describe('--json errors: one JSON line on stderr, nothing else', () => {
  it('a usage error (missing argument, unknown option, bad option value) exits 2 as UsageError', () => {
    for (const args of [
      ['status', '--json'],
      ['list', '--json', '--colour'],
      ['list', '--limit', 'lots', '--json'],
    ]) {
      const error = jsonError(tuneforge(args));
      assert.deepEqual([error.code, error.exitCode], ['UsageError', EXIT.invalidInput], args.join(' '));
    }
    const text = tuneforge(['status']);
    assert.equal(text.status, EXIT.invalidInput);
    assert.match(text.stderr, /^error: missing required argument 'workflowId'/);
  });

  it('a spec the CLI refuses exits 2 as SpecInvalid, the problem in the message', () => {
    const bad = specFile('bad.yaml', 'name: tiny\nprovider: local\nrecipe: tiny-qa\nnodes: -1\ntraining: {maxSteps: 1}\n');
    for (const args of [
      ['start', bad, '--json'],
      ['plan', bad, '--json'],
      ['schedule', 'create', bad, '--every', '1h', '--json'],
    ]) {
      const error = jsonError(tuneforge(args));
      assert.deepEqual([error.code, error.exitCode], ['SpecInvalid', EXIT.invalidInput], args.join(' '));
      assert.match(error.error, /the run spec is invalid:\n\s+- nodes:/);
    }
    const text = tuneforge(['start', bad]);
    assert.equal(text.status, EXIT.invalidInput);
    assert.match(text.stderr, /^tuneforge: the run spec is invalid:/);
  });

  it('no Temporal server exits 3 as TemporalUnreachable, for every command that needs one', () => {
    // The commands that gained --json; each CLI start waits out the connect attempt, so not every command.
    const commands = [
      ['cancel', 'x'],
      ['pull', 'x', join(folder, 'pulled')],
      ['schedule', 'trigger', 'x'],
      ['status', 'x'],
    ];
    for (const args of commands) {
      const error = jsonError(tuneforge([...args, '--json']));
      assert.deepEqual([error.code, error.exitCode], ['TemporalUnreachable', EXIT.temporalUnreachable], args.join(' '));
      assert.match(error.error, new RegExp(`cannot reach the Temporal server at ${NOWHERE}`));
    }
  });

  it('models: a bad name exits 2, a name with no runs in the store 5', () => {
    const error = jsonError(tuneforge(['models', 'Not_A_Name', '--artifacts', `file://${folder}/`, '--json']));
    assert.deepEqual([error.code, error.exitCode], ['InvalidFilter', EXIT.invalidInput]);
    const empty = jsonError(tuneforge(['models', 'nobody-yet', '--artifacts', `file://${folder}/`, '--json']));
    assert.deepEqual([empty.code, empty.exitCode], ['NoArtifacts', EXIT.notFound]);
  });
});
