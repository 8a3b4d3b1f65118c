// The spec's JSON Schema: generated from the zod schema (a field added there appears), committed as
// docs/spec.schema.json (this test fails while the copy is stale), named by every example's first line for the
// YAML language server, and every example is valid against it (checked by the small validator below).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../src/common/package-root';
import { runSpecSchema } from '../src/run-spec/schema';
import { specJsonSchema, specJsonSchemaText } from '../src/run-spec/json-schema';

const MAIN = resolve(__dirname, '../src/client/main.js');
const COMMITTED = join(packageRoot(), 'docs/spec.schema.json');
const EXAMPLES = join(packageRoot(), 'examples');
const HEADER = '# yaml-language-server: $schema=../docs/spec.schema.json';
const REGENERATE = 'npx tsc -p tsconfig.json && node lib/client/main.js schema > docs/spec.schema.json';

type Schema = Record<string, unknown>;

/** The draft-7 keywords the generated schema uses; an unknown one fails the check, so none is skipped silently. */
const KNOWN = new Set([
  '$schema',
  'title',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'enum',
  'const',
  'oneOf',
  'anyOf',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minItems',
  'default',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Problems of value against schema, each with its path; [] when it is valid. */
function check(schema: Schema, value: unknown, path = '$'): string[] {
  for (const key of Object.keys(schema)) if (!KNOWN.has(key)) return [`${path}: the checker does not know ${key}`];
  const s = schema as Schema & Record<string, never>;
  const problems: string[] = [];
  const add = (ok: boolean, what: string) => ok || problems.push(`${path}: ${what}`);
  if (s.type !== undefined) {
    const t = typeOf(value);
    add(t === s.type || (s.type === 'number' && t === 'integer'), `is ${t}, not ${s.type}`);
  }
  if (s.enum !== undefined) add((s.enum as unknown[]).includes(value), `not one of ${JSON.stringify(s.enum)}`);
  if ('const' in s) add(value === s.const, `is not ${JSON.stringify(s.const)}`);
  if (s.oneOf !== undefined)
    add((s.oneOf as Schema[]).filter((o) => check(o, value, path).length === 0).length === 1, 'matches not exactly one of oneOf');
  if (s.anyOf !== undefined)
    add(
      (s.anyOf as Schema[]).some((o) => check(o, value, path).length === 0),
      'matches none of anyOf',
    );
  if (typeof value === 'string') {
    if (s.pattern !== undefined) add(new RegExp(s.pattern as string, 'u').test(value), `does not match ${s.pattern}`);
    if (s.minLength !== undefined) add(value.length >= (s.minLength as number), 'too short');
    if (s.maxLength !== undefined) add(value.length <= (s.maxLength as number), 'too long');
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined) add(value >= (s.minimum as number), `below ${s.minimum}`);
    if (s.maximum !== undefined) add(value <= (s.maximum as number), `above ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined) add(value > (s.exclusiveMinimum as number), `not above ${s.exclusiveMinimum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined) add(value.length >= (s.minItems as number), 'too few items');
    if (s.items !== undefined) value.forEach((v, i) => problems.push(...check(s.items as Schema, v, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object') problems.push(...checkObject(s, value as Record<string, unknown>, path));
  return problems;
}

function checkObject(s: Schema, value: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  for (const key of (s.required ?? []) as string[]) if (!(key in value)) problems.push(`${path}.${key}: is required`);
  for (const [key, v] of Object.entries(value)) {
    if (s.propertyNames !== undefined) problems.push(...check(s.propertyNames as Schema, key, `${path}.${key} (name)`));
    if (key in properties) problems.push(...check(properties[key] as Schema, v, `${path}.${key}`));
    else if (s.additionalProperties === false) problems.push(`${path}.${key}: unknown field`);
    else if (typeof s.additionalProperties === 'object')
      problems.push(...check(s.additionalProperties as Schema, v, `${path}.${key}`));
  }
  return problems;
}

const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

describe("the run spec's JSON Schema", () => {
  it('docs/spec.schema.json is what tuneforge schema prints today', () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    assert.ok(committed === specJsonSchemaText(), `docs/spec.schema.json is out of date; regenerate it with: ${REGENERATE}`);
    const printed = spawnSync(process.execPath, [MAIN, 'schema'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(printed.stdout, committed);
  });

  it('has every field of each zod provider form, and a field added to a zod schema appears', () => {
    const generated = specJsonSchema() as { oneOf: Array<{ properties: Record<string, unknown>; required: string[] }> };
    assert.deepEqual(
      generated.oneOf.map((form) => Object.keys(form.properties).sort()),
      runSpecSchema.options.map((form) => Object.keys(form.shape).sort()),
    );
    assert.deepEqual(
      generated.oneOf.map((form) => [...form.required].sort()),
      [
        ['name', 'provider', 'training'],
        ['aws', 'name', 'provider', 'training'],
      ],
    );
    const extended = runSpecSchema.options[0].extend({ notify: z.strictObject({ webhook: z.url() }) });
    const withField = specJsonSchema(extended) as { properties: Record<string, { properties?: object }> };
    assert.ok(withField.properties.notify?.properties && 'webhook' in withField.properties.notify.properties);
  });

  for (const file of examples) {
    it(`examples/${file} names the schema on its first line and is valid against it`, () => {
      const text = readFileSync(join(EXAMPLES, file), 'utf8');
      assert.equal(text.split('\n')[0], HEADER);
      assert.deepEqual(check(specJsonSchema(), parse(text)), []);
    });
  }

  it('the checker refuses what the schema forbids (so the examples were really checked)', () => {
    const schema = specJsonSchema();
    const good = parse(readFileSync(join(EXAMPLES, 'local-tiny.yaml'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(check(schema, good), []);
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...good, nodez: 3 }, /nodez: unknown field/],
      [{ ...good, nodes: 'three' }, /nodes: is string, not integer/],
      [{ ...good, nodes: 0 }, /nodes: not above 0/],
      [{ ...good, name: 'Bad_Name' }, /name: does not match/],
      [{ ...good, provider: 'gcp' }, /not exactly one of oneOf/],
    ];
    for (const [doc, problem] of bad) {
      const problems = check(schema, doc);
      assert.ok(problems.length > 0, JSON.stringify(doc));
      // oneOf reports at the top; the branch's own problem is what the local branch says.
      const local = check((schema.oneOf as Schema[])[0] as Schema, doc).join('\n');
      assert.match(`${problems.join('\n')}\n${local}`, problem);
    }
  });
});
