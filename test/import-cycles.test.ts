// The layers of src/ import one way: this walks every src/**/*.ts file's imports (type-only ones too, since a
// type circle ties two modules as tightly as a value one) and fails on any circle, naming its files. It also
// keeps src/records/ a leaf: the plain records every layer speaks in import nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';

const SRC = join(packageRoot(), 'src');
// `import ... from './x'`, `export ... from './x'`, `import './x'` and `import('./x')`, over several lines too.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((path) => path.endsWith('.ts') && existsSync(path));
}

/** Each file's relative imports inside src/, as repository-relative paths. */
export function importGraph(root = SRC): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(SPECIFIER)]
      .map((match) => resolveImport(file, match[1] ?? ''))
      .filter((path): path is string => path !== undefined && path.startsWith(root));
    graph.set(relative(root, file), [...new Set(targets.map((path) => relative(root, path)))]);
  }
  return graph;
}

/** Every elementary circle found by depth-first search, each once, as the files in import order. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (file: string): void => {
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (onStack.has(next)) {
        const cycle = stack.slice(stack.indexOf(next));
        cycles.set([...cycle].sort().join(' '), cycle);
      } else if (!done.has(next)) visit(next);
    }
    stack.pop();
    onStack.delete(file);
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!done.has(file)) visit(file);
  return [...cycles.values()];
}

describe('imports in src/', () => {
  const graph = importGraph();

  it('form no circle', () => {
    const cycles = importCycles(graph).map((cycle) => [...cycle, cycle[0]].join(' -> '));
    assert.deepEqual(cycles, [], `import circles in src/:\n${cycles.join('\n')}`);
  });

  it('the records module imports nothing', () => {
    const records = [...graph.keys()].filter((file) => file.startsWith('records/'));
    assert.ok(records.length > 0, 'src/records/ holds the shared records');
    for (const file of records) {
      const text = readFileSync(join(SRC, file), 'utf8');
      const specifiers = [...text.matchAll(/\bfrom\s*['"]([^'"]+)['"]/g)].map((match) => match[1]);
      const outside = specifiers.filter((specifier) => !specifier?.startsWith('./'));
      assert.deepEqual(outside, [], `${file} imports from outside src/records/`);
    }
  });

  it('the walk sees a circle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(importCycles(graph), [['a.ts', 'b.ts', 'c.ts']]);
  });
});
