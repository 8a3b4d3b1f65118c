// The bench's table (`metric | measured | goal | ok`), the seconds under it, and the block docs/benchmarks.md shows.

export interface Row {
  metric: string;
  measured: string;
  goal: string;
  ok: boolean | null;
  /** The number compared with the goal (JSON only). */
  value: number | null;
}

export function ratioRow(metric: string, value: number | undefined, goalMax: number, detail: string): Row {
  if (value === undefined || !Number.isFinite(value))
    return { metric, measured: 'not measured', goal: `≤ ${goalMax}`, ok: null, value: null };
  return { metric, measured: `${value.toFixed(2)} (${detail})`, goal: `≤ ${goalMax.toFixed(2)}`, ok: value <= goalMax, value };
}

export function markdownTable(headers: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
  ].join('\n');
}

export function rowsTable(rows: Row[]): string {
  return markdownTable(
    ['metric', 'measured', 'goal', 'ok'],
    rows.map((r) => [r.metric, r.measured, r.goal, r.ok === null ? '—' : r.ok ? 'yes' : 'no']),
  );
}

/** Plain-text table for the terminal (aligned columns). */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
