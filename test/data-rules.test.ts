// The data rules from the TypeScript side: split-check.ts reads recipes/common/data-rules.json, and judges every
// row of recipes/tests/golden/data-rule-rows.json as the trainers do (recipes/tests/test_data_rules.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';
import { dataRules, DATA_RULES_FILE, parseDataRules } from '../src/data/data-rules';
import type { Row } from '../src/data/rows';
import { crossCheck, DataRefused, describeProblem, MAX_LABELS, requiredColumns, splitChecker } from '../src/data/split-check';
import type { TaskName } from '../src/run-spec/inputs';

interface Case {
  name: string;
  task: TaskName;
  rows: Row[];
  refused: { row: number | null; column: string } | null;
}

const GOLDEN = join(packageRoot(), 'recipes/tests/golden/data-rule-rows.json');
const cases = (JSON.parse(readFileSync(GOLDEN, 'utf8')) as { cases: Case[] }).cases;
const FILE = 'train.jsonl';

/** The message the checker refuses this training split with, or null when it accepts it. */
function judge(task: TaskName, rows: Row[]): string | null {
  const checker = splitChecker(task, undefined, { field: 'data.train', file: FILE });
  try {
    rows.forEach((row, index) => checker.row(row, index));
  } catch (err) {
    if (err instanceof DataRefused) return err.message;
    throw err;
  }
  const summary = checker.summary();
  // The validation split as the training one, so only the training split's own rules can refuse.
  const problem = crossCheck(task, 'label', { ...summary, file: FILE, truncated: false }, { ...summary, file: 'v.jsonl' });
  return problem ? describeProblem(problem) : null;
}

describe('data rules', () => {
  for (const c of cases)
    it(`judges "${c.name}" as the trainers do`, () => {
      const message = judge(c.task, c.rows);
      if (c.refused === null) return assert.equal(message, null);
      const row = c.refused.row === null ? '' : `row ${c.refused.row}: `;
      assert.ok(message?.startsWith(`${FILE}: ${row}column ${c.refused.column}: `), `${c.name}: ${message}`);
    });

  it('reads the columns and limits from the rules file', () => {
    const file = JSON.parse(readFileSync(join(packageRoot(), DATA_RULES_FILE), 'utf8'));
    assert.deepEqual(requiredColumns('question-answering', undefined), file['question-answering'].columns);
    assert.deepEqual(requiredColumns('text-classification', undefined), ['text', 'label']);
    assert.equal(MAX_LABELS, file['text-classification'].maxLabels);
    assert.equal(dataRules().classification.minClasses, 2);
  });

  it('refuses a rules file with a field missing or of the wrong kind, naming it', () => {
    const good = JSON.parse(readFileSync(join(packageRoot(), DATA_RULES_FILE), 'utf8'));
    assert.throws(() => parseDataRules({ ...good, 'question-answering': { columns: [] , textColumns: 3 } }), /textColumns must be a list/);
    assert.throws(() => parseDataRules({ ...good, 'text-classification': { ...good['text-classification'], maxLabels: 0 } }), /maxLabels must be a positive integer/);
    assert.throws(() => parseDataRules({}), /question-answering must be an object/);
  });
});
