// The data rules both languages read (recipes/common/data-rules.json): QA's columns, classification's default
// columns, its fewest classes and most labels. Read once, checked field by field, so a broken file fails at start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/package-root';

export interface DataRules {
  qa: { columns: string[]; textColumns: string[] };
  classification: { textColumn: string; labelColumn: string; minClasses: number; maxLabels: number };
}

export const DATA_RULES_FILE = 'recipes/common/data-rules.json';

let cached: DataRules | undefined;

export function dataRules(): DataRules {
  cached ??= parseDataRules(JSON.parse(readFileSync(join(packageRoot(), DATA_RULES_FILE), 'utf8')));
  return cached;
}

export function parseDataRules(value: unknown): DataRules {
  const qa = field(value, 'question-answering');
  const cls = field(value, 'text-classification');
  return {
    qa: { columns: strings(qa, 'columns'), textColumns: strings(qa, 'textColumns') },
    classification: {
      textColumn: text(cls, 'textColumn'),
      labelColumn: text(cls, 'labelColumn'),
      minClasses: count(cls, 'minClasses'),
      maxLabels: count(cls, 'maxLabels'),
    },
  };
}

function field(value: unknown, name: string): Record<string, unknown> {
  const inner: unknown = typeof value === 'object' && value !== null ? Object.entries(value).find(([k]) => k === name)?.[1] : undefined;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner))
    throw new Error(`${DATA_RULES_FILE}: ${name} must be an object`);
  return Object.fromEntries(Object.entries(inner));
}

function strings(rules: Record<string, unknown>, name: string): string[] {
  const value = rules[name];
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string' && v !== ''))
    throw new Error(`${DATA_RULES_FILE}: ${name} must be a list of column names`);
  return value;
}

function text(rules: Record<string, unknown>, name: string): string {
  const value = rules[name];
  if (typeof value !== 'string' || value === '') throw new Error(`${DATA_RULES_FILE}: ${name} must be a column name`);
  return value;
}

function count(rules: Record<string, unknown>, name: string): number {
  const value = rules[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new Error(`${DATA_RULES_FILE}: ${name} must be a positive integer`);
  return value;
}
