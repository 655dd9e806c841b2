/**
 * Reading delimited text tables (CSV, TSV, semicolon CSV) the way users' files really come:
 * UTF-8 with or without BOM, CRLF or LF, quoted fields holding delimiters, quotes and newlines.
 * Parsing is csv-parse's; this module adds what a person needs when a file is wrong: binary and
 * non-UTF-8 detection, the physical line of every record, and messages naming file and line.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { UserError, atLine, quoted, quotedList } from './errors';
import { assertReadableFile } from './fsutil';
import { sha256 } from './hash';
import { firstInvalidUtf8, lineOfOffset } from './text-encoding';

export type Delimiter = ',' | '\t' | ';';

export interface TableRecord {
  /** Physical line (1-based) where the record starts in the file. */
  line: number;
  fields: string[];
}

export interface Table {
  /** The path as the user gave it, for messages. */
  file: string;
  delimiter: Delimiter;
  header: string[];
  /** Data records (the header excluded), in file order. Empty lines are skipped. */
  records: TableRecord[];
  /** sha256 of the file's bytes (BOM included: it is the content fingerprint). */
  sha256: string;
  /** Size of the file in bytes. */
  bytes: number;
}

export interface ReadTableOptions {
  /** Force a delimiter (`,`, `\t` or `tab`, `;`) instead of taking it from the extension or header. */
  delimiter?: string;
}

export function delimiterName(d: Delimiter): string {
  return d === '\t' ? 'tab' : d === ',' ? 'comma' : 'semicolon';
}

/** A header line longer than this is not a header (a file without line breaks, or not a table). */
const MAX_HEADER_CHARS = 1 << 20;

/** Reads and parses a table file; every failure is a UserError naming the file (and line). */
export function readTable(file: string, opts: ReadTableOptions = {}): Table {
  return parseTable(file, readDataFile(file), opts);
}

/** A data file's bytes; a missing file, a folder or an unreadable file is a UserError. */
export function readDataFile(file: string): Buffer {
  assertReadableFile(file, 'data file');
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_IO');
  }
}

/** Parses table bytes already in memory (`file` is used for messages and the extension). */
export function parseTable(file: string, bytes: Uint8Array, opts: ReadTableOptions = {}): Table {
  const text = decodeUtf8(file, bytes);
  if (text.trim() === '') throw new UserError(`${file}: the file is empty; expected a header line and data rows`, 'E_DATA');
  const firstBreak = text.indexOf('\n');
  const headerChars = firstBreak === -1 ? text.length : firstBreak;
  if (headerChars > MAX_HEADER_CHARS) {
    // Checked before parsing: csv-parse takes seconds on a line of megabytes, only to find one field.
    const where = firstBreak === -1 ? 'the whole file is one line' : 'the first line';
    throw atLine(file, 1, `${where}, ${headerChars.toLocaleString('en-US')} characters long, cannot be a header; a CSV/TSV table starts with a line naming its columns`);
  }
  const delimiter = chooseDelimiter(file, text, opts.delimiter);
  const records = parseRecords(file, text, delimiter);
  if (records.length === 0) throw new UserError(`${file}: the file is empty; expected a header line and data rows`, 'E_DATA');
  const [head, ...rows] = records;
  if (rows.length === 0) {
    throw new UserError(`${file}: only a header line (${quotedList(head.fields)}), no data rows`, 'E_DATA');
  }
  return { file, delimiter, header: head.fields, records: rows, sha256: sha256(bytes), bytes: bytes.length };
}

/**
 * Decodes strict UTF-8 (a BOM is dropped). Binary files, UTF-16 and legacy encodings (EUC-KR,
 * CP949, Latin-1: what Excel often saves) fail with the line of the first bad byte.
 */
export function decodeUtf8(file: string, bytes: Uint8Array): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new UserError(`${file}: the file is UTF-16 encoded; save it as UTF-8 (e.g. "CSV UTF-8" in Excel)`, 'E_ENCODING');
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new UserError(
      `${file}:${lineOfOffset(bytes, nul)}: this is a binary file (NUL byte at offset ${nul}), not CSV/TSV text; export spreadsheets as "CSV UTF-8"`,
      'E_ENCODING',
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const hex = bad < bytes.length ? ` (byte 0x${bytes[bad].toString(16).padStart(2, '0')} at offset ${bad})` : '';
    throw new UserError(
      `${file}:${lineOfOffset(bytes, bad)}: not valid UTF-8${hex}; the file is probably in a legacy encoding such as CP949/EUC-KR or Latin-1: save it as UTF-8`,
      'E_ENCODING',
    );
  }
}

/** Delimiter from an explicit choice, the extension, or the header line (tab, comma, semicolon). */
export function chooseDelimiter(file: string, text: string, explicit?: string): Delimiter {
  if (explicit !== undefined) return normaliseDelimiter(explicit);
  const nl = text.indexOf('\n');
  const header = nl === -1 ? text : text.slice(0, nl);
  const count = (c: string): number => header.split(c).length - 1;
  const ext = extname(file).toLowerCase();
  const byExt: Delimiter | undefined = ext === '.csv' ? ',' : ext === '.tsv' || ext === '.tab' ? '\t' : undefined;
  // The extension wins when the header agrees with it; a ".csv" that is really tab-separated
  // (common when exporting from tools) is read by what its header shows.
  if (byExt && count(byExt) > 0) return byExt;
  const candidates: Delimiter[] = ['\t', ',', ';'];
  let best: Delimiter | undefined;
  for (const c of candidates) if (count(c) > 0 && (best === undefined || count(c) > count(best))) best = c;
  return best ?? byExt ?? '\t';
}

/** An explicitly chosen delimiter: `tab`/`\t`/TAB, `comma`/`,`, `semicolon`/`;`. */
export function normaliseDelimiter(explicit: string): Delimiter {
  const d = explicit === 'tab' || explicit === '\\t' ? '\t' : explicit === 'comma' ? ',' : explicit === 'semicolon' ? ';' : explicit;
  if (d === '\t' || d === ',' || d === ';') return d;
  throw new UserError(`delimiter: ${JSON.stringify(explicit)} is not supported; use tab, comma or semicolon`, 'E_USAGE');
}

/** Runs csv-parse and attaches to each record the physical line it starts on. */
function parseRecords(file: string, text: string, delimiter: Delimiter): TableRecord[] {
  // Line numbers come from byte offsets, not csv-parse's `info.lines`, which counts a CRLF inside
  // a quoted field as two lines. `info.bytes` is the UTF-8 offset just past each record.
  const buf = Buffer.from(text, 'utf8');
  const lines = new LineIndex(buf);
  let raw: Array<{ record: string[]; info: { bytes: number } }>;
  try {
    raw = parse(text, {
      delimiter,
      info: true,
      relax_column_count: true, // wrong column counts are reported per row by the caller
      relax_quotes: true, // a stray quote inside an unquoted field is kept as text
      skip_empty_lines: true,
    }) as unknown as Array<{ record: string[]; info: { bytes: number } }>;
  } catch (e) {
    const err = e as Error & { code?: string; bytes_records?: number; lines?: number };
    const start = typeof err.bytes_records === 'number' ? lines.lineAfter(err.bytes_records) : err.lines ?? 1;
    const why =
      err.code === 'CSV_QUOTE_NOT_CLOSED'
        ? 'a quoted field opened here is never closed (a lone " at the start of a field starts a quoted field; double it as "" or quote the whole field)'
        : err.code === 'CSV_INVALID_CLOSING_QUOTE'
          ? 'text follows a closing quote in this record (inside a quoted field write a quote as "")'
          : `cannot parse this record (${err.message})`;
    throw atLine(file, start, why);
  }
  const out: TableRecord[] = new Array(raw.length);
  let prevEnd = 0;
  for (let i = 0; i < raw.length; i++) {
    out[i] = { line: lines.lineAfter(prevEnd), fields: raw[i].record };
    prevEnd = raw[i].info.bytes;
  }
  return out;
}

/** Maps byte offsets to 1-based line numbers. */
class LineIndex {
  private readonly newlines: number[] = [];
  constructor(private readonly buf: Uint8Array) {
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) this.newlines.push(i);
  }
  /** Line of the first byte at or after `offset` that is not a line break (where a record starts). */
  lineAfter(offset: number): number {
    let p = offset;
    while (p < this.buf.length && (this.buf[p] === 10 || this.buf[p] === 13)) p++;
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.newlines[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}

/**
 * Index of a named column. A missing one lists the columns that exist (and a near match when the
 * name differs only in case or surrounding spaces).
 */
export function findColumn(table: Pick<Table, 'file' | 'header'>, name: string, what: string): number {
  const exact = table.header.indexOf(name);
  if (exact !== -1) return exact;
  const loose = table.header.findIndex((h) => h.trim() === name.trim());
  if (loose !== -1) return loose;
  const near = table.header.find((h) => h.trim().toLowerCase() === name.trim().toLowerCase());
  const hint = near !== undefined ? ` (did you mean ${quoted(near)}?)` : '';
  throw new UserError(`${table.file}: ${what} ${quoted(name)} not found${hint}; the columns are: ${quotedList(table.header)}`, 'E_DATA');
}

/** One field in TSV with CSV quoting: quoted only when it holds a tab, quote or line break. */
export function tsvField(s: string): string {
  return /[\t"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole TSV document (LF line ends) that parseTable reads back to the same fields. */
export function formatTsv(header: string[], rows: string[][]): string {
  const parts: string[] = [header.map(tsvField).join('\t')];
  for (const r of rows) parts.push(r.map(tsvField).join('\t'));
  return parts.join('\n') + '\n';
}
