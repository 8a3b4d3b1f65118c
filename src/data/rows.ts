// Rows of a data file read as a stream of chunks: CSV (RFC 4180, header first), JSON Lines, or JSON (an
// array of rows, or {"data": [rows]}, read whole). Only the first `limitBytes` are parsed; what comes
// after is not read into rows (the caller still hashes it).
import type { DataExtension } from '../run-spec/inputs';

export type Row = Record<string, unknown>;

/** A file whose bytes cannot be read as rows: where and why. */
export class MalformedData extends Error {
  constructor(
    readonly row: number | null,
    reason: string,
  ) {
    super(reason);
  }
}

export interface RowSink {
  /** The CSV header (once, before any row); JSON forms have none. */
  header?(columns: string[]): void;
  /** Data rows numbered from 1 (the CSV header is not a row; in JSON Lines the line number). */
  row(row: Row, index: number): void;
}

export interface RowParser {
  /** Bytes up to the cap; returns false once the cap is reached (parsing stops). */
  push(chunk: Buffer): boolean;
  /** The end of the file (or of what was parsed): flushes the last row. */
  end(): { truncated: boolean };
}

export function rowParser(format: DataExtension, sink: RowSink, limitBytes: number): RowParser {
  const parse = format === 'csv' ? csvParser(sink) : format === 'jsonl' ? jsonLinesParser(sink) : jsonParser(sink);
  let seen = 0;
  let truncated = false;
  return {
    push(chunk) {
      if (truncated) return false;
      const room = limitBytes - seen;
      if (chunk.length > room) {
        truncated = true;
        if (format === 'json')
          throw new MalformedData(null, `larger than ${limitBytes} bytes: JSON is read whole; use JSON Lines`);
        parse.text(cutAtLastNewline(chunk.subarray(0, room)));
        return false;
      }
      seen += chunk.length;
      parse.text(chunk);
      return true;
    },
    end() {
      if (!truncated) parse.end();
      return { truncated };
    },
  };
}

/** Past the cap only whole lines count: a row cut in two would read as malformed. */
function cutAtLastNewline(chunk: Buffer): Buffer {
  const at = chunk.lastIndexOf(0x0a);
  return at < 0 ? Buffer.alloc(0) : chunk.subarray(0, at + 1);
}

interface TextParser {
  text(chunk: Buffer): void;
  end(): void;
}

function decoder(): (chunk: Buffer) => string {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  return (chunk) => {
    try {
      return utf8.decode(chunk, { stream: true });
    } catch {
      throw new MalformedData(null, 'is not UTF-8 text');
    }
  };
}

function jsonLinesParser(sink: RowSink): TextParser {
  const decode = decoder();
  let pending = '';
  let line = 0;
  const take = (text: string) => {
    line += 1;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new MalformedData(line, `not JSON (${(err as Error).message})`);
    }
    if (!isRow(value)) throw new MalformedData(line, 'not a JSON object');
    sink.row(value, line);
  };
  return {
    text(chunk) {
      const lines = (pending + decode(chunk)).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    },
    end() {
      if (pending !== '') take(pending);
    },
  };
}

function jsonParser(sink: RowSink): TextParser {
  const decode = decoder();
  const parts: string[] = [];
  return {
    text(chunk) {
      parts.push(decode(chunk));
    },
    end() {
      let value: unknown;
      try {
        value = JSON.parse(parts.join(''));
      } catch (err) {
        throw new MalformedData(null, `not JSON (${(err as Error).message})`);
      }
      const rows = Array.isArray(value) ? value : isRow(value) && Array.isArray(value.data) ? value.data : undefined;
      if (!rows) throw new MalformedData(null, 'JSON must be an array of rows or {"data": [rows]}');
      rows.forEach((row: unknown, i: number) => {
        if (!isRow(row)) throw new MalformedData(i + 1, 'not a JSON object');
        sink.row(row, i + 1);
      });
    },
  };
}

/** RFC 4180: fields in double quotes may hold commas, quotes ("") and newlines; CRLF or LF ends a record. */
function csvParser(sink: RowSink): TextParser {
  const decode = decoder();
  let header: string[] | undefined;
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let afterQuote = false;
  let started = false;
  let index = 0;
  const endField = () => {
    record.push(field);
    field = '';
    afterQuote = false;
  };
  const endRecord = () => {
    endField();
    const values = record;
    record = [];
    started = false;
    if (values.length === 1 && values[0] === '') return;
    if (!header) {
      header = values.map((c, i) => (i === 0 ? c.replace(/^\ufeff/, '') : c));
      sink.header?.(header);
      return;
    }
    index += 1;
    if (values.length !== header.length)
      throw new MalformedData(index, `has ${values.length} fields, the header ${header.length}`);
    sink.row(Object.fromEntries(header.map((c, i) => [c, values[i]])), index);
  };
  return {
    text(chunk) {
      for (const c of decode(chunk)) {
        if (quoted) {
          if (c === '"') {
            quoted = false;
            afterQuote = true;
          } else field += c;
          continue;
        }
        if (c === '"') {
          if (afterQuote) field += '"';
          else if (field !== '') throw new MalformedData(index + 1, 'has a quote inside an unquoted field');
          quoted = true;
          afterQuote = false;
        } else if (c === ',') endField();
        else if (c === '\n') endRecord();
        else if (c === '\r') continue;
        else {
          if (afterQuote) throw new MalformedData(index + 1, 'has text after a closing quote');
          field += c;
        }
        started = true;
      }
    },
    end() {
      if (quoted) throw new MalformedData(index + 1, 'ends inside a quoted field');
      if (started || field !== '' || record.length > 0) endRecord();
      if (!header) throw new MalformedData(null, 'has no header line');
    },
  };
}

function isRow(value: unknown): value is Row {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
