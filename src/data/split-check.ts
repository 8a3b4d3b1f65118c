// What a task needs of each split's rows, checked as the rows stream by: the columns, each value's
// type, and for text-classification the label set (compared across splits by crossCheck).
import type { DataColumns, TaskName } from '../run-spec/inputs';
import { dataRules } from './data-rules';
import type { Row, RowSink } from './rows';

export type SplitField = 'data.train' | 'data.validation';

/** A refusal: the spec field, the file, and where in it (row and column where they apply). */
export interface DataProblem {
  field: SplitField | 'model';
  file: string;
  row?: number;
  column?: string;
  reason: string;
}

export class DataRefused extends Error {
  constructor(readonly problem: DataProblem) {
    super(describeProblem(problem));
  }
}

export function describeProblem(p: DataProblem): string {
  return [p.file, p.row !== undefined ? `row ${p.row}` : '', p.column !== undefined ? `column ${p.column}` : '', p.reason]
    .filter((s) => s !== '')
    .join(': ');
}

export interface SplitSummary {
  rows: number;
  /** Sorted; text-classification only. */
  labels?: string[];
  /** Where each label was first seen (row), to name the row of a label absent from training. */
  firstSeen?: Record<string, number>;
}

/** Values from the data, as messages show them: quoted, control characters escaped, long ones cut. */
export function quoted(values: string[], most = 5): string {
  const shown = values.slice(0, most).map((v) => JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v));
  return `${shown.join(', ')}${values.length > most ? `, and ${values.length - most} more` : ''}`;
}

/** More classes than this is a text column given as the label, not a classification (data-rules.json). */
export const MAX_LABELS = dataRules().classification.maxLabels;

/** The label column: the spec's, else the rules' default. */
export function labelColumnOf(columns: DataColumns | undefined): string {
  return columns?.label ?? dataRules().classification.labelColumn;
}

export function requiredColumns(task: TaskName, columns: DataColumns | undefined): string[] {
  if (task === 'question-answering') return dataRules().qa.columns;
  const text = columns?.text ?? dataRules().classification.textColumn;
  return [text, ...(columns?.textPair ? [columns.textPair] : []), labelColumnOf(columns)];
}

export interface SplitChecker extends RowSink {
  summary(): SplitSummary;
}

export function splitChecker(task: TaskName, columns: DataColumns | undefined, where: Omit<DataProblem, 'reason'>): SplitChecker {
  const required = requiredColumns(task, columns);
  const labelColumn = labelColumnOf(columns);
  const firstSeen = new Map<string, number>();
  // The trainers read a label column of one kind: strings, or integers (cls_data.py's LabelTally).
  let labelKind: 'string' | 'integer' | undefined;
  let rows = 0;
  const refuse = (reason: string, row?: number, column?: string): never => {
    throw new DataRefused({
      ...where,
      ...(row !== undefined ? { row } : {}),
      ...(column !== undefined ? { column } : {}),
      reason,
    });
  };
  return {
    header(found) {
      const missing = required.filter((c) => !found.includes(c));
      if (missing.length > 0) refuse(`missing (the header has ${quoted(found, 20) || 'nothing'})`, undefined, missing.join(', '));
    },
    row(row, index) {
      rows += 1;
      for (const column of required) if (!(column in row)) refuse('missing', index, column);
      if (task === 'question-answering') return checkQaRow(row, index, refuse);
      for (const column of required.filter((c) => c !== labelColumn)) {
        if (typeof row[column] !== 'string') refuse('must be text', index, column);
      }
      const value = row[labelColumn];
      const label = labelOf(value);
      if (label === undefined) return refuse('must be a non-empty string or an integer', index, labelColumn);
      const kind = typeof value === 'string' ? 'string' : 'integer';
      labelKind ??= kind;
      if (kind !== labelKind) refuse(`label ${quoted([label])} is ${kind === 'string' ? 'a string' : 'an integer'} but earlier labels are ${labelKind}s`, index, labelColumn);
      if (!firstSeen.has(label)) {
        if (firstSeen.size >= MAX_LABELS)
          refuse(`more than ${MAX_LABELS} classes: is this the label column?`, index, labelColumn);
        firstSeen.set(label, index);
      }
    },
    summary() {
      if (task === 'question-answering') return { rows };
      return { rows, labels: [...firstSeen.keys()].sort(), firstSeen: Object.fromEntries(firstSeen) };
    },
  };
}

function labelOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

function checkQaRow(row: Row, index: number, refuse: (reason: string, row?: number, column?: string) => never): void {
  // qa_data.py keys examples by id: scoring needs one to match predictions to answers.
  const id = row.id;
  if (!((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isInteger(id))))
    refuse('must be a non-empty string or an integer', index, 'id');
  for (const column of dataRules().qa.textColumns) if (typeof row[column] !== 'string') refuse('must be text', index, column);
  let answers = row.answers;
  if (typeof answers === 'string') {
    try {
      answers = JSON.parse(answers);
    } catch {
      refuse('must be JSON {"text": [...], "answer_start": [...]} in a CSV cell', index, 'answers');
    }
  }
  const a = answers as { text?: unknown; answer_start?: unknown } | null;
  const ok =
    a !== null &&
    typeof a === 'object' &&
    Array.isArray(a.text) &&
    Array.isArray(a.answer_start) &&
    a.text.length === a.answer_start.length &&
    a.text.every((t) => typeof t === 'string') &&
    a.answer_start.every((s) => Number.isInteger(s) && (s as number) >= 0);
  if (!ok) refuse('must be {"text": [strings], "answer_start": [integers >= 0]} of equal length', index, 'answers');
}

/** Across splits: both non-empty; for classification at least two classes, and no validation label unseen in training. */
export function crossCheck(
  task: TaskName,
  labelColumn: string,
  train: SplitSummary & { file: string; truncated: boolean },
  validation: SplitSummary & { file: string },
): DataProblem | undefined {
  for (const [field, split] of [
    ['data.train', train],
    ['data.validation', validation],
  ] as const) {
    if (split.rows === 0) return { field, file: split.file, reason: 'has no rows (empty split)' };
  }
  if (task !== 'text-classification') return undefined;
  if ((train.labels ?? []).length < dataRules().classification.minClasses && !train.truncated) {
    return {
      field: 'data.train',
      file: train.file,
      column: labelColumn,
      reason: `has one class only (${quoted(train.labels ?? [])})`,
    };
  }
  // A training file read only in part may hold the label further on: the trainer checks the rest.
  if (train.truncated) return undefined;
  const known = new Set(train.labels);
  const absent = (validation.labels ?? []).filter((l) => !known.has(l));
  const [first] = absent;
  if (first === undefined) return undefined;
  return {
    field: 'data.validation',
    file: validation.file,
    row: validation.firstSeen?.[first] ?? 0,
    column: labelColumn,
    reason: `label(s) ${quoted(absent)} absent from training (${train.file})`,
  };
}
