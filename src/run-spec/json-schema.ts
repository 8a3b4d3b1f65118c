// The run spec's JSON Schema, generated from the zod schema (never written by hand): what `tuneforge schema`
// prints and docs/spec.schema.json holds, for editors (the YAML language server) to complete and check specs.
// It describes what a user writes (zod's input side: fields with defaults are optional). Checks zod runs in code
// (refinements such as "exactly one of maxSteps or epochs", zones of the region) cannot be expressed: `tuneforge
// plan` is the full check.
import { z } from 'zod';
import { runSpecSchema } from './schema';

export const SPEC_SCHEMA_TITLE = 'tuneforge run spec';

export function specJsonSchema(schema: z.ZodType = runSpecSchema): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    io: 'input',
    // Draft 7: what the YAML language server and most editors support best.
    target: 'draft-7',
    // A refinement or transform has no JSON Schema form: its input side is described, the code check stays.
    unrepresentable: 'any',
  });
  const { $schema, ...rest } = generated;
  return { $schema, title: SPEC_SCHEMA_TITLE, ...rest };
}

/** The text of docs/spec.schema.json: `tuneforge schema` prints exactly this. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
