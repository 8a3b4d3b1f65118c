// run.json checked against its schema (src/records/run-record.ts) whenever it crosses the store: before
// record-run writes it, and as promote-model and `tuneforge models` read it back. A record that breaks the
// schema is refused with every field that is wrong, never half-read.
import { RUN_RECORD_SCHEMA, type RunRecord, type StoredRunRecord } from '../records/run-record';
import { assertSupportedSchema, schemaProblems, type SchemaNode } from '../recipes/schema-check';

/** A run.json that breaks its schema; the message names each field and what is wrong with it. */
export class RunRecordInvalid extends Error {
  override readonly name = 'RunRecordInvalid';
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`${where} is not a valid run record: ${problems.join('; ')}`);
  }
}

let schema: SchemaNode | undefined;

function runRecordSchema(): SchemaNode {
  if (schema) return schema;
  const node: unknown = RUN_RECORD_SCHEMA;
  assertSupportedSchema(node);
  schema = node;
  return node;
}

/** The problems of a value as run.json, as "$.field: what is wrong"; empty when it conforms. */
export function runRecordProblems(value: unknown): string[] {
  return schemaProblems(runRecordSchema(), value);
}

/** The record as read from `where`, or RunRecordInvalid naming the fields that are wrong. */
export function readRunRecord(value: unknown, where: string): StoredRunRecord {
  const problems = runRecordProblems(value);
  if (problems.length > 0) throw new RunRecordInvalid(where, problems);
  return value as StoredRunRecord;
}

/** The record about to be written, checked first: a writer that drifts from the schema fails here, not in a reader. */
export function checkedRunRecord(record: RunRecord, where: string): RunRecord {
  const problems = runRecordProblems(record);
  if (problems.length > 0) throw new RunRecordInvalid(where, problems);
  return record;
}
