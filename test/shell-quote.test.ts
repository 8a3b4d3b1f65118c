import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { raw, sh, shellJoin, shellQuote } from '../src/remote/shell-quote';
import { trainScriptArgs } from '../src/recipes/recipe';
import { validateRunSpec } from '../src/spec/validate';

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

  it('passes spec strings through to the trainer literally', () => {
    const result = validateRunSpec({
      name: 'quote-test',
      provider: 'local',
      recipe: 'tiny-qa',
      training: { maxSteps: 3, extraArgs: Object.fromEntries(INJECTIONS.map((v, i) => [`arg_${i}`, v])) },
    });
    assert.ok(result.ok);
    const args = trainScriptArgs(result.spec, { outputDir: 'out', resume: false, evaluate: true });
    const { words, pwned } = bashWords(`printf '%s\\0' ${shellJoin(args)}`);
    assert.deepEqual(words, args);
    for (const value of INJECTIONS) assert.ok(words.includes(value) || value === '', `missing ${JSON.stringify(value)}`);
    assert.equal(pwned, false);
  });
});
