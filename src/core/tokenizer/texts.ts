/**
 * The text column of a CSV/TSV file, for the tokenize/lengths/vocab commands. Quoted CSV is read
 * by the project's table reader; `quoting: 'none'` reads every quote as text, the way NSMC-style
 * TSV files (and BERT's own scripts) treat them.
 */
import { UserError } from '../errors';
import { chooseDelimiter, decodeUtf8, findColumn, readDataFile, readTable, type Table } from '../table';

export type Quoting = 'csv' | 'none';

export interface TextColumn {
  file: string;
  column: string;
  texts: string[];
}

export function parseQuoting(v: string | undefined): Quoting {
  if (v === undefined || v === 'csv') return 'csv';
  if (v === 'none') return 'none';
  throw new UserError(`--quoting: ${JSON.stringify(v)} is not supported; use csv (quoted fields) or none (quotes are text)`, 'E_USAGE');
}

/** `document` if present, else `text`, else the second column (the first when there is one). */
export function defaultTextColumn(header: string[]): number {
  for (const name of ['document', 'text']) {
    const i = header.indexOf(name);
    if (i !== -1) return i;
  }
  return header.length > 1 ? 1 : 0;
}

export function readTextColumn(file: string, o: { textCol?: string; quoting?: Quoting } = {}): TextColumn {
  const table = o.quoting === 'none' ? readUnquoted(file) : readTable(file);
  const col = o.textCol !== undefined ? findColumn(table, o.textCol, 'text column') : defaultTextColumn(table.header);
  const texts = new Array<string>(table.records.length);
  for (let i = 0; i < texts.length; i++) {
    const f = table.records[i].fields;
    if (col >= f.length) {
      throw new UserError(`${file}:${table.records[i].line}: the row has ${f.length} field(s), no ${JSON.stringify(table.header[col])} column`, 'E_DATA');
    }
    texts[i] = f[col];
  }
  return { file, column: table.header[col], texts };
}

/** Lines split on the delimiter, quotes kept as text (a plain loop: csv-parse is the slow part here). */
function readUnquoted(file: string): Table {
  const bytes = readDataFile(file);
  const text = decodeUtf8(file, bytes);
  if (text.trim() === '') throw new UserError(`${file}: the file is empty; expected a header line and data rows`, 'E_DATA');
  const delimiter = chooseDelimiter(file, text);
  const records: Table['records'] = [];
  let header: string[] | undefined;
  let line = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line++;
    const raw = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (raw === '') continue;
    const fields = raw.split(delimiter);
    if (header === undefined) header = fields;
    else records.push({ line, fields });
  }
  if (!header || records.length === 0) throw new UserError(`${file}: only a header line, no data rows`, 'E_DATA');
  return { file, delimiter, header, records, sha256: '', bytes: bytes.length };
}
