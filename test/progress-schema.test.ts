// The progress line contract from the TypeScript side: the parser accepts every golden line (real output of the
// tiny-qa trainer, shared with pytest) and refuses, with a warning, every line that breaks the shared schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../src/common/package-root';
import {
  applyProgressEvent,
  emptyProgress,
  parseProgressLine,
  PROGRESS_PREFIX,
  progressSchema,
  type ProgressEvent,
} from '../src/recipes/progress';
import { assertSupportedSchema, type SchemaNode } from '../src/recipes/schema-check';

const GOLDEN = join(packageRoot(), 'recipes/tests/golden/progress-lines.jsonl');
const goldenLines = readFileSync(GOLDEN, 'utf8')
  .split('\n')
  .filter((line) => line.length > 0);
type Fields = Record<string, unknown> & { event: string };
const goldenEvents = goldenLines.map((line) => JSON.parse(line.slice(PROGRESS_PREFIX.length)) as Fields);

function parsed(line: string): { event: ProgressEvent | undefined; warnings: string[] } {
  const warnings: string[] = [];
  return { event: parseProgressLine(line, (message) => warnings.push(message)), warnings };
}

function line(fields: object): string {
  return `${PROGRESS_PREFIX}${JSON.stringify(fields)}`;
}

function branchOf(kind: string): SchemaNode {
  const branch = progressSchema().oneOf?.find((b) => b.properties?.event?.const === kind);
  assert.ok(branch, `the schema has a branch for ${kind}`);
  return branch;
}

/** The same mutations pytest refuses (recipes/tests/test_progress_schema.py), from every golden line. */
function mutations(): Array<[string, Fields]> {
  const out: Array<[string, Fields]> = [];
  for (const event of goldenEvents) {
    const kind = event.event;
    for (const key of Object.keys(event).filter((k) => k !== 'event'))
      out.push([`${kind}.${key} of the wrong type`, { ...event, [key]: [event[key]] }]);
    for (const key of (branchOf(kind).required ?? []).filter((k) => k !== 'event')) {
      const { [key]: _dropped, ...rest } = event;
      out.push([`${kind} without ${key}`, rest as Fields]);
    }
    out.push([`${kind} with an unknown field`, { ...event, surprise: 1 }]);
    out.push([`${kind} renamed to an unknown event`, { ...event, event: `${kind}ed` }]);
  }
  return out;
}

describe('progress lines against recipes/common/progress-schema.json', () => {
  it('the golden file holds every event kind the schema names', () => {
    const kinds = progressSchema().properties?.event?.enum;
    assert.deepEqual([...new Set(goldenEvents.map((e) => e.event))].sort(), [...(kinds as string[])].sort());
  });

  it('accepts every golden line as it is, without a warning', () => {
    for (const [i, text] of goldenLines.entries()) {
      const { event, warnings } = parsed(text);
      assert.deepEqual(event, goldenEvents[i]);
      assert.deepEqual(warnings, []);
    }
  });

  it('accepts a golden line behind a launcher prefix (mpirun tags each output line)', () => {
    assert.deepEqual(parsed(`[1,0]<stdout>:${goldenLines[0]}`).event, goldenEvents[0]);
  });

  it('refuses every mutated golden line with a warning that names the field', () => {
    const cases = mutations();
    assert.ok(cases.length > 40, `${cases.length} mutations`);
    for (const [name, fields] of cases) {
      const { event, warnings } = parsed(line(fields));
      assert.equal(event, undefined, name);
      assert.equal(warnings.length, 1, name);
      assert.match(warnings[0] ?? '', /does not match progress-schema\.json/, name);
    }
    const { warnings } = parsed(line({ ...goldenEvents[1], loss: 'low' }));
    assert.match(warnings[0] ?? '', /\$\.loss: expected number or null, got string/);
  });

  it('refuses a fractional step, a negative step count and a line that is not JSON', () => {
    const step = goldenEvents.find((e) => e.event === 'step');
    assert.ok(step);
    assert.match(parsed(line({ ...step, step: 1.5 })).warnings[0] ?? '', /\$\.step: expected integer/);
    assert.match(parsed(line({ ...step, max_steps: -1 })).warnings[0] ?? '', /\$\.max_steps: below the minimum 0/);
    const broken = parsed(`${PROGRESS_PREFIX}{"event":"step",`);
    assert.equal(broken.event, undefined);
    assert.match(broken.warnings[0] ?? '', /not JSON/);
  });

  it('ignores other output lines without a warning', () => {
    for (const text of ["{'loss': 1.0}", 'tuneforge {}', '', 'Saving model checkpoint to /x'])
      assert.deepEqual(parsed(text), { event: undefined, warnings: [] });
  });

  it('the golden lines drive a follower to the trainer final state', () => {
    let progress = emptyProgress('job');
    for (const text of goldenLines.slice(0, 4)) {
      const { event } = parsed(text);
      assert.ok(event);
      progress = applyProgressEvent(progress, event);
    }
    const done = goldenEvents[3];
    assert.equal(done?.event, 'done');
    assert.equal(progress.step, done.global_step);
    assert.equal(progress.firstLoss, goldenEvents[1]?.loss);
    assert.match(progress.lastCheckpoint ?? '', /checkpoint-\d+$/);
  });
});

describe('the schema checker', () => {
  it('refuses a schema keyword it does not implement instead of ignoring it', () => {
    assert.throws(() => assertSupportedSchema({ type: 'object', patternProperties: {} }), /patternProperties is not supported/);
    assert.throws(() => assertSupportedSchema({ properties: { a: { maxLength: 3 } } }), /properties\/a: .*maxLength/);
    assert.throws(() => assertSupportedSchema({ additionalProperties: true }), /only additionalProperties: false/);
  });
});
