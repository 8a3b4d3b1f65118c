// Reads a YAML run spec from disk and validates it; Node-only (the workflow uses validate.ts).
import { readFile } from 'node:fs/promises';
import { parse, YAMLParseError } from 'yaml';
import { specInvalid } from '../common/errors';
import type { RunSpec } from './schema';
import { validateRunSpec } from './validate';

export async function loadRunSpec(path: string): Promise<RunSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw specInvalid([{ path: '(file)', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}` }]);
  }
  return parseRunSpec(text);
}

export function parseRunSpec(text: string): RunSpec {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    // The parser also refuses alias bombs (ReferenceError: "Excessive alias count ..."): still a bad spec.
    const message = err instanceof YAMLParseError || err instanceof Error ? err.message : String(err);
    throw specInvalid([{ path: '(yaml)', message }]);
  }
  const result = validateRunSpec(document);
  if (!result.ok) throw specInvalid(result.problems);
  return result.spec;
}
