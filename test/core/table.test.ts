/**
 * Table reading on real files: delimiters, BOM, CRLF, quoted fields, physical line numbers, and
 * a clear error for every kind of file that is not a readable table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTsv, parseTable, readTable, findColumn, tsvField } from '../../src/core/table';
import { sha256 } from '../../src/core/hash';
import { tempDir, userError } from '../helpers';

test('CSV with quoted commas, quotes and newlines; lines are physical lines', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'data.csv');
  writeFileSync(file, 'text,label\n"a, b",1\n"say ""hi""\nsecond line",0\nplain,1\n');
  const tb = readTable(file);
  assert.equal(tb.delimiter, ',');
  assert.deepEqual(tb.header, ['text', 'label']);
  assert.deepEqual(tb.records.map((r) => r.fields), [['a, b', '1'], ['say "hi"\nsecond line', '0'], ['plain', '1']]);
  assert.deepEqual(tb.records.map((r) => r.line), [2, 3, 5]);
});

test('TSV with BOM, CRLF, quoted tabs and CRLF inside fields, blank lines: fields and lines exact', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'data.tsv');
  const body = 'text\tlabel\r\n"tab\there"\tpos\r\n"multi\r\nline\r\ntext"\tneg\r\n\r\nlast\tpos\r\n';
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]);
  writeFileSync(file, bytes);
  const tb = readTable(file);
  assert.equal(tb.delimiter, '\t');
  assert.deepEqual(tb.header, ['text', 'label'], 'the BOM is not part of the first column name');
  assert.deepEqual(tb.records.map((r) => r.fields), [['tab\there', 'pos'], ['multi\r\nline\r\ntext', 'neg'], ['last', 'pos']]);
  // csv-parse's own line counter says 8 for `last` (CRLF in quotes counted twice); the file has it on 7.
  assert.deepEqual(tb.records.map((r) => r.line), [2, 3, 7]);
  assert.equal(tb.sha256, sha256(bytes), 'the fingerprint covers the file bytes as they are');
});

test('delimiter: from the extension, sniffed for .txt, header wins over a wrong extension, forced', (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, string, string]> = [
    ['a.txt', 'text\tlabel\nx, y\t1\n', '\t'],
    ['b.txt', 'text,label\n"x\ty",1\n', ','],
    ['c.csv', 'text\tlabel\nx, y\t1\n', '\t'],
    ['d.csv', 'text;label\nx, y;1\n', ';'],
    ['e.tsv', 'text\tlabel\nx\t1\n', '\t'],
  ];
  for (const [name, body, want] of cases) {
    writeFileSync(join(dir, name), body);
    const tb = readTable(join(dir, name));
    assert.equal(tb.delimiter, want, name);
    assert.equal(tb.records[0].fields.length, 2, name);
  }
  writeFileSync(join(dir, 'f.txt'), 'text;label\nx;1\n');
  assert.equal(readTable(join(dir, 'f.txt'), { delimiter: 'tab' }).header.length, 1);
  assert.match(userError(() => readTable(join(dir, 'f.txt'), { delimiter: '|' })), /delimiter: "\|" is not supported/);
});

test('any text survives formatTsv → parseTable unchanged', () => {
  const texts = ['plain', 'tab\tinside', 'new\nline', 'cr\ronly', 'crlf\r\nx', '"starts with quote', 'ends "quoted"', '""', ' spaces ', '이모지 😀 ㅋㅋ', 'a,b;c', '\\t literal'];
  const doc = formatTsv(['text', 'label'], texts.map((s, i) => [s, String(i % 2)]));
  const tb = parseTable('roundtrip.tsv', Buffer.from(doc));
  assert.deepEqual(tb.records.map((r) => r.fields[0]), texts);
  assert.equal(tsvField('simple text'), 'simple text', 'plain fields are not quoted');
});

test('missing file, folder, empty, whitespace only, header only: one clear error naming the file', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'nope.tsv');
  assert.match(userError(() => readTable(missing)), new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: data file not found`));
  const sub = join(dir, 'folder.tsv');
  mkdirSync(sub);
  assert.match(userError(() => readTable(sub)), /folder\.tsv: is a directory/);
  writeFileSync(join(dir, 'empty.tsv'), '');
  assert.match(userError(() => readTable(join(dir, 'empty.tsv'))), /empty\.tsv: the file is empty/);
  writeFileSync(join(dir, 'blank.tsv'), '\uFEFF\r\n  \n');
  assert.match(userError(() => readTable(join(dir, 'blank.tsv'))), /blank\.tsv: the file is empty/);
  writeFileSync(join(dir, 'head.tsv'), 'text\tlabel\r\n\r\n');
  assert.match(userError(() => readTable(join(dir, 'head.tsv'))), /head\.tsv: only a header line \("text", "label"\), no data rows/);
});

test('binary, UTF-16 and non-UTF-8 files fail with file, line and what to do', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'bin.tsv'), Buffer.from([0x74, 0x0a, 0x61, 0x00, 0x01, 0x02]));
  assert.match(userError(() => readTable(join(dir, 'bin.tsv'))), /bin\.tsv:2: this is a binary file \(NUL byte at offset 3\)/);
  writeFileSync(join(dir, 'zip.csv'), Buffer.from('PK\u0003\u0004\u0000\u0000rest', 'latin1'));
  assert.match(userError(() => readTable(join(dir, 'zip.csv'))), /zip\.csv:1: this is a binary file/);
  writeFileSync(join(dir, 'u16.tsv'), Buffer.from('\uFEFFtext\tlabel\n', 'utf16le'));
  assert.match(userError(() => readTable(join(dir, 'u16.tsv'))), /u16\.tsv: the file is UTF-16 encoded; save it as UTF-8/);
  // "좋아요" in CP949 (EUC-KR) on line 3.
  const cp949 = Buffer.concat([Buffer.from('text\tlabel\nfine\t1\n'), Buffer.from([0xc1, 0xc1, 0xbe, 0xc6, 0xbf, 0xe4]), Buffer.from('\t1\n')]);
  writeFileSync(join(dir, 'cp949.tsv'), cp949);
  const msg = userError(() => readTable(join(dir, 'cp949.tsv')));
  assert.match(msg, /cp949\.tsv:3: not valid UTF-8 \(byte 0xc1 at offset 18\)/);
  assert.match(msg, /save it as UTF-8/);
  // A truncated multi-byte sequence at the very end is caught too.
  writeFileSync(join(dir, 'cut.tsv'), Buffer.concat([Buffer.from('text\tlabel\nok\t'), Buffer.from([0xea, 0xb0])]));
  assert.match(userError(() => readTable(join(dir, 'cut.tsv'))), /cut\.tsv:2: not valid UTF-8/);
});

test('an unclosed quote names the line where the quoted field starts', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'q.csv'), 'text,label\r\nfine,1\r\n"never closed,0\r\nmore,1\r\n');
  assert.match(userError(() => readTable(join(dir, 'q.csv'))), /q\.csv:3: a quoted field opened here is never closed/);
});

test('a stray quote inside an unquoted field is kept as text', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 's.tsv'), 'text\tlabel\n5" screen\t1\n"quoted" then more\t0\n');
  assert.deepEqual(readTable(join(dir, 's.tsv')).records.map((r) => r.fields[0]), ['5" screen', '"quoted" then more']);
});

test('a missing column lists the columns that exist, with a near match', () => {
  const table = { file: 'data.csv', header: ['id', 'Document', 'label'] };
  assert.equal(findColumn(table, 'label', 'label column'), 2);
  const msg = userError(() => findColumn(table, 'document', 'text column'));
  assert.equal(msg, 'data.csv: text column "document" not found (did you mean "Document"?); the columns are: "id", "Document", "label"');
  assert.match(userError(() => findColumn(table, 'txt', 'text column')), /not found; the columns are: "id", "Document", "label"$/);
});
