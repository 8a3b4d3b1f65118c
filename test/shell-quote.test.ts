import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { raw, sh, shellJoin, shellQuote } from '../src/remote/shell-quote';
import { trainScriptArgs } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/run-spec/validate';
import { MANAGED_ARGS } from '../src/run-spec/trainer-arguments';
import { TRAINER_ARGUMENT_NAMES } from '../src/run-spec/training-argument-names';

export const INJECTIONS = [
  '; touch PWNED',
  '$(touch PWNED)',
  '`touch PWNED`',
  "'; touch PWNED; echo '",
  '"; touch PWNED; echo "',
  'a\ntouch PWNED',
  '$HOME ${PATH} !! \\ * ? ~ # & | < > ( ) { }',
  '-rf /',
  '',
];

/** Runs a command in a real bash in an empty folder and returns the words it received. */
function bashWords(command: string): { words: string[]; pwned: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'quote-'));
  const out = execFileSync('bash', ['-c', `${command}`], { cwd: dir, encoding: 'utf8' });
  return { words: out.split('\0').slice(0, -1), pwned: existsSync(join(dir, 'PWNED')) };
}

describe('shell quoting', () => {
  for (const value of INJECTIONS) {
    it(`passes ${JSON.stringify(value)} literally`, () => {
      const { words, pwned } = bashWords(`printf '%s\\0' ${shellQuote(value)}`);
      assert.deepEqual(words, [value]);
      assert.equal(pwned, false);
    });
  }

  it('quotes every interpolation of the sh template, and splices raw() as is', () => {
    const evil = '$(touch PWNED)';
    const { words, pwned } = bashWords(sh`printf '%s\\0' ${evil} ${raw('"$((1+1))"')}`);
    assert.deepEqual(words, [evil, '2']);
    assert.equal(pwned, false);
  });

  it('refuses NUL bytes', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });

  it('passes spec strings through to the trainer literally, each bound to its name', () => {
    // Real TrainingArguments names (the spec refuses unknown ones), one per value.
    const names = TRAINER_ARGUMENT_NAMES.filter((n) => !Object.hasOwn(MANAGED_ARGS, n));
    const nameFor = (i: number) => names[i] ?? 'run_name';
    // The spec refuses control characters and option-like values before anything is quoted.
    const accepted = INJECTIONS.filter((v) => !/[\u0000-\u001f]/.test(v) && !v.startsWith('-'));
    const result = validateRunSpec({
      name: 'quote-test',
      provider: 'local',
      recipe: 'tiny-qa',
      training: { maxSteps: 3, extraArgs: Object.fromEntries(accepted.map((v, i) => [nameFor(i), v])) },
    });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    const args = trainScriptArgs(result.spec, { outputDir: 'out', resume: false, evaluate: true });
    const { words, pwned } = bashWords(`printf '%s\\0' ${shellJoin(args)}`);
    assert.deepEqual(words, args);
    accepted.forEach((value, i) => assert.ok(words.includes(`--${nameFor(i)}=${value}`), `missing ${JSON.stringify(value)}`));
    assert.equal(pwned, false);
  });

  it('refuses extraArgs values that are option-like or carry control characters, naming the field', () => {
    for (const value of ['-rf /', '--output_dir=/srv/elsewhere', 'a\ntouch PWNED', 'a\u0000b']) {
      const result = validateRunSpec({
        name: 'quote-test',
        provider: 'local',
        recipe: 'tiny-qa',
        // A real argument name: the refusal must come from the value.
        training: { maxSteps: 3, extraArgs: { run_name: value } },
      });
      assert.ok(!result.ok, JSON.stringify(value));
      assert.equal(result.problems[0]?.path, 'training.extraArgs.run_name');
      assert.doesNotMatch(result.problems[0]?.message ?? '', /unknown trainer argument/);
      assert.doesNotMatch(result.problems[0]?.message ?? '', /[\u0000-\u0009\u000b-\u001f]/, 'no raw control character echoed');
    }
  });
});
