// The `tuneforge list` table: one row per run, status coloured when colours are on.
import type { RunRow } from '../commands/list';
import { statusColor, type Palette } from './colors';
import { padVisible } from './text';

const HEADERS = ['ID', 'STATUS', 'STAGE', 'PROVIDER', 'RECIPE', 'NODES', 'EM', 'F1', 'STARTED (UTC)'] as const;

const score = (value: number | null) => (value === null ? '-' : value.toFixed(1));

function cells(row: RunRow): string[] {
  return [
    row.workflowId,
    row.status,
    row.stage ?? '-',
    row.provider ?? '-',
    row.recipe ?? '-',
    row.nodes === null ? '-' : String(row.nodes),
    score(row.exactMatch),
    score(row.f1),
    row.startTime.slice(0, 19).replace('T', ' '),
  ];
}

export function formatRunTable(rows: RunRow[], p: Palette): string {
  if (rows.length === 0) return 'No runs match.';
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === values.length - 1 ? v : padVisible(v, widths[i] ?? 0))).join('  ');
  const colour = (values: string[]) => values.map((v, i) => (i === 1 ? statusColor(p, v)(v) : v));
  return [p.bold(line([...HEADERS])), ...body.map((r) => line(colour(r)))].join('\n');
}
