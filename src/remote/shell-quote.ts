// POSIX shell quoting: every value interpolated into a remote command goes through here.

/** Quotes one value so a POSIX shell passes it as a single literal word. */
export function shellQuote(value: string | number | boolean): string {
  const text = String(value);
  if (text.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each value and joins them with spaces. */
export function shellJoin(values: ReadonlyArray<string | number | boolean>): string {
  return values.map(shellQuote).join(' ');
}

/** Tagged template: `sh\`rm -rf ${dir}\`` quotes every interpolation; use raw() to splice trusted text. */
export function sh(strings: TemplateStringsArray, ...values: Array<string | number | boolean | RawShell>): string {
  return strings.reduce((out, part, i) => {
    if (i >= values.length) return out + part;
    const value = values[i];
    return out + part + (value instanceof RawShell ? value.text : shellQuote(value as string | number | boolean));
  }, '');
}

export class RawShell {
  constructor(readonly text: string) {}
}

/** Marks text built from already-quoted pieces so sh`` splices it as is. */
export function raw(text: string): RawShell {
  return new RawShell(text);
}
