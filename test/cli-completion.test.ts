// `tuneforge completion`: the bash script completes as bash runs it (COMP_WORDS through the generated function),
// lists every command `tuneforge --help` shows (it is written from the program, not a list), and the zsh and
// fish scripts name the same commands.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../src/client/exit-codes';
import { jsonError } from './helpers/cli-json';

const MAIN = resolve(__dirname, '../src/client/main.js');

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What bash offers after the words typed so far (the last one is the word being completed). */
function complete(...words: string[]): string[] {
  const script = `
    source <("${process.execPath}" "${MAIN}" completion bash)
    COMP_WORDS=(tuneforge ${words.map((w) => `'${w}'`).join(' ')})
    COMP_CWORD=${words.length}
    _tuneforge
    printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
  return result.stdout.split('\n').filter((w) => w.length > 0);
}

/** The command names of a --help text's "Commands:" section. */
function helpCommands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'help');
}

describe('tuneforge completion', () => {
  it('bash: completes commands, subcommands and their options, skipping option values', () => {
    assert.deepEqual(complete('sch'), ['schedule', 'schema']);
    assert.deepEqual(complete('schedule', 'u').sort(), ['unpause', 'update']);
    assert.deepEqual(complete('start', '--'), ['--id', '--follow', '--json', '--help']);
    assert.deepEqual(complete('schedule', 'create', 'spec.yaml', '--ev'), ['--every']);
    // "--id list" is a value, not the list command: start's options are still offered.
    assert.deepEqual(complete('start', '--id', 'list', '--f'), ['--follow']);
    assert.deepEqual(complete('list', '--min'), ['--min-f1', '--min-exact-match']);
  });

  it('bash: offers every command of --help at the top and under schedule', () => {
    const top = helpCommands(cli('--help').stdout);
    assert.ok(top.includes('start') && top.includes('completion'), top.join(' '));
    const offered = complete('');
    for (const command of top) assert.ok(offered.includes(command), `${command} offered`);
    const schedule = helpCommands(cli('schedule', '--help').stdout);
    assert.ok(schedule.includes('update') && schedule.length >= 8, schedule.join(' '));
    assert.deepEqual(
      complete('schedule', '').filter((w) => !w.startsWith('-')),
      schedule,
    );
  });

  it('zsh and fish scripts name the same commands; --json wraps the script; an unknown shell exits 2', () => {
    const zsh = cli('completion', 'zsh');
    assert.equal(zsh.status, EXIT.ok);
    assert.match(zsh.stdout, /^#compdef tuneforge\nautoload -U \+X bashcompinit && bashcompinit\n/);
    assert.ok(zsh.stdout.includes(cli('completion', 'bash').stdout));
    const fish = cli('completion', 'fish').stdout;
    for (const command of helpCommands(cli('--help').stdout))
      assert.match(fish, new RegExp(`-n '__fish_use_subcommand' -a ${command} -d`));
    assert.match(fish, /-n '__fish_seen_subcommand_from schedule; and not __fish_seen_subcommand_from [a-z ]*' -a update -d/);
    assert.match(fish, /-n '__fish_seen_subcommand_from schedule; and __fish_seen_subcommand_from create' -l every -r -d/);
    const json = JSON.parse(cli('completion', 'bash', '--json').stdout) as { shell: string; script: string };
    assert.deepEqual([json.shell, json.script], ['bash', cli('completion', 'bash').stdout]);
    const error = jsonError(cli('completion', 'tcsh', '--json'));
    assert.deepEqual([error.code, error.exitCode], ['UsageError', EXIT.invalidInput]);
    assert.match(error.error, /tcsh.*bash, zsh, fish/);
  });
});
