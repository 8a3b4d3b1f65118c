// A checker for the small part of JSON Schema that tuneforge's own schemas use (no npm dependency):
// type, const, enum, minimum, properties, required, additionalProperties (false only) and oneOf.
// Anything else in a schema is refused when the schema is loaded, so a keyword is never silently ignored.

export interface SchemaNode {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: false;
  oneOf?: SchemaNode[];
}

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
const KEYWORDS = new Set(['type', 'const', 'enum', 'minimum', 'properties', 'required', 'additionalProperties', 'oneOf']);

/** Throws if the schema uses a keyword this checker does not implement. */
export function assertSupportedSchema(schema: unknown, at = '#'): asserts schema is SchemaNode {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    throw new Error(`${at}: a schema must be an object`);
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    if (!KEYWORDS.has(key)) throw new Error(`${at}: schema keyword ${key} is not supported by this checker`);
    if (key === 'additionalProperties' && value !== false)
      throw new Error(`${at}: only additionalProperties: false is supported`);
    if (key === 'properties')
      for (const [name, sub] of Object.entries(value as object)) assertSupportedSchema(sub, `${at}/properties/${name}`);
    if (key === 'oneOf') (value as unknown[]).forEach((sub, i) => assertSupportedSchema(sub, `${at}/oneOf/${i}`));
  }
}

/** The problems of `value` against `schema`, as "path: what is wrong"; empty when it conforms. */
export function schemaProblems(schema: SchemaNode, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasType(value, type))) return [`${path}: expected ${types.join(' or ')}, got ${typeName(value)}`];
  }
  if ('const' in schema && value !== schema.const) problems.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${path}: expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum)
    problems.push(`${path}: below the minimum ${schema.minimum}`);
  if (isObject(value)) problems.push(...objectProblems(schema, value, path));
  if (schema.oneOf) problems.push(...oneOfProblems(schema.oneOf, value, path));
  return problems;
}

function objectProblems(schema: SchemaNode, value: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  for (const name of schema.required ?? []) if (!(name in value)) problems.push(`${path}.${name}: missing`);
  for (const [name, field] of Object.entries(value)) {
    const sub = schema.properties?.[name];
    if (sub) problems.push(...schemaProblems(sub, field, `${path}.${name}`));
    else if (schema.additionalProperties === false) problems.push(`${path}.${name}: not allowed`);
  }
  return problems;
}

/** Exactly one branch must match; when none does, the problems of the closest branch say why. */
function oneOfProblems(branches: SchemaNode[], value: unknown, path: string): string[] {
  const results = branches.map((branch) => schemaProblems(branch, value, path));
  const matching = results.filter((problems) => problems.length === 0).length;
  if (matching === 1) return [];
  if (matching > 1) return [`${path}: matches ${matching} alternatives, expected exactly one`];
  return results.reduce((closest, problems) => (problems.length < closest.length ? problems : closest));
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    default:
      throw new Error(`schema type ${type} is not supported by this checker`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
