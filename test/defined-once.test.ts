// Constants that others depend on are written once in src/: a copy drifts (the run-name pattern, the torch
// rendezvous port, the EX_DATAERR exit status the recipes/common scripts share). Each literal must appear in
// exactly one file, the one that exports it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';

const SRC = join(packageRoot(), 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({ path: relative(SRC, path), text: readFileSync(path, 'utf8') }));

const ONCE: Array<[what: string, literal: RegExp, home: string]> = [
  ['the run-name pattern', /\/\^\[a-z\]\[a-z0-9-\]\{0,38\}\[a-z0-9\]\$\//, 'run-spec/schema.ts'],
  ['the torch rendezvous port', /\b29500\b/, 'providers/provider.ts'],
  ['the data-error exit status', /=\s*65\b/, 'recipes/trainer-refusal.ts'],
];

describe('constants defined once in src/', () => {
  for (const [what, literal, home] of ONCE)
    it(`${what} is written only in ${home}`, () => {
      assert.deepEqual(
        files.filter((file) => literal.test(file.text)).map((file) => file.path),
        [home],
      );
    });
});
