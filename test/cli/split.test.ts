/**
 * `trialbook split` as a real child process: every data bad input gives exit 2, one line naming
 * the file/line/field and no output folder; good inputs (BOM, CRLF, quoted CSV) round-trip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSplit } from '../../src/core/split';
import { runCli, tempDir } from '../helpers';

function reviews(n: number, labelOf: (i: number) => string): string {
  const lines = ['text\tlabel'];
  for (let i = 0; i < n; i++) lines.push(`게임 리뷰 ${i} ${i % 7 === 0 ? '재밌다' : '별로'}\t${labelOf(i)}`);
  return lines.join('\n') + '\n';
}

/** Runs split and checks the failure contract: exit 2, one `trialbook:` line, no output folder. */
function failsClearly(args: string[], out: string, pattern: RegExp): void {
  const r = runCli(['split', ...args, '--out', out]);
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], /^trialbook: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
  assert.match(lines[0], pattern);
  assert.equal(existsSync(out), false, `no partial output in ${out}`);
}

test('bad data inputs: exit 2, one clear message naming file/line/field, nothing written', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'out');
  const cols = ['--text-col', 'text', '--label-col', 'label'];
  const file = (name: string, body: string | Buffer) => {
    writeFileSync(join(dir, name), body);
    return join(dir, name);
  };

  failsClearly(['--input', join(dir, 'missing.tsv'), ...cols], out, /missing\.tsv: data file not found/);
  mkdirSync(join(dir, 'folder.tsv'));
  failsClearly(['--input', join(dir, 'folder.tsv'), ...cols], out, /folder\.tsv: is a directory, expected a data file/);
  failsClearly(['--input', file('empty.tsv', ''), ...cols], out, /empty\.tsv: the file is empty/);
  failsClearly(['--input', file('header.tsv', 'text\tlabel\r\n'), ...cols], out, /header\.tsv: only a header line \("text", "label"\), no data rows/);
  failsClearly(['--input', file('binary.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08])), ...cols], out, /binary\.csv:1: this is a binary file/);
  const euckr = Buffer.concat([Buffer.from('text,label\n'), Buffer.from([0xb0, 0xd4, 0xc0, 0xd3]), Buffer.from(',1\n')]);
  failsClearly(['--input', file('euckr.csv', euckr), ...cols], out, /euckr\.csv:2: not valid UTF-8 .*save it as UTF-8/);
  const good = file('good.tsv', reviews(60, (i) => String(i % 2)));
  failsClearly(['--input', good, '--text-col', 'review', '--label-col', 'label'], out, /good\.tsv: text column "review" not found; the columns are: "text", "label"/);
  failsClearly(['--input', good, '--text-col', 'text', '--label-col', 'sentiment'], out, /good\.tsv: label column "sentiment" not found; the columns are: "text", "label"/);
  failsClearly(['--input', file('one.tsv', reviews(40, () => 'pos')), ...cols], out, /one\.tsv: label column "label" has only one label, "pos", in 40 usable rows/);
  failsClearly(['--input', file('unknown.tsv', reviews(20, (i) => (i === 9 ? 'maybe' : i % 2 ? 'pos' : 'neg'))), ...cols, '--labels', 'neg,pos'], out, /unknown\.tsv:11: unknown label "maybe" in column "label"/);
  failsClearly(['--input', file('nolabel.tsv', reviews(20, (i) => (i === 4 ? ' ' : String(i % 2)))), ...cols], out, /nolabel\.tsv:6: missing label in column "label".*--skip-bad/);
  failsClearly(['--input', file('emptytext.tsv', 'text\tlabel\nok\t1\n\t0\n'), ...cols], out, /emptytext\.tsv:3: empty text in column "text"/);
  failsClearly(['--input', file('cols.tsv', 'text\tlabel\nok\t1\nx\t0\textra\n'), ...cols], out, /cols\.tsv:3: expected 2 fields \(as in the header\), found 3/);
  failsClearly(['--input', good, ...cols, '--ratios', '0.8:0.1:0.2'], out, /ratios: 0\.8:0\.1:0\.2 sums to 1\.1, not 1/);
  failsClearly(['--input', good, ...cols, '--ratios', '9:1:0'], out, /ratios: 9:1:0: every ratio must be positive/);
  failsClearly(['--input', file('small.tsv', reviews(8, (i) => String(i % 2))), ...cols, '--ratios', '0.9:0.05:0.05'], out, /small\.tsv: ratios 0\.9:0\.05:0\.05 leave the test split empty for 8 usable rows \(train 7, val 1, test 0\)/);
  failsClearly(['--input', good, ...cols, '--seed', 'abc'], out, /--seed: "abc" is not an integer/);
  failsClearly(['--input', good, '--text-col', 'text'], out, /split: --label-col is required/);
});

test('BOM + CRLF + quoted commas, quotes and newlines in a CSV: texts survive the split exactly', (t) => {
  const dir = tempDir(t);
  const texts: string[] = [];
  const rows = ['review,score'];
  for (let i = 0; i < 40; i++) {
    const text = i % 4 === 0 ? `line one ${i},\r\nline "two"` : i % 4 === 1 ? `tab\there ${i}` : `plain, with comma ${i}`;
    texts.push(text);
    rows.push(`"${text.replace(/"/g, '""')}",${i % 2 ? 'good' : 'bad'}`);
  }
  const input = join(dir, 'reviews.csv');
  writeFileSync(input, '\uFEFF' + rows.join('\r\n') + '\r\n');
  const out = join(dir, 'split');
  const r = runCli(['split', '--input', input, '--text-col', 'review', '--label-col', 'score', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /read .*reviews\.csv: 40 rows, comma-separated/);
  assert.match(r.stdout, /labels: 0=bad, 1=good; 40 rows used/);
  assert.match(r.stdout, /^ {2}total\s+32\s+4\s+4\s+40$/m);
  const data = readSplit(out);
  const back = [...data.train, ...data.val, ...data.test];
  assert.deepEqual(back.map((x) => x.text).sort(), [...texts].sort());
  for (const x of back) assert.equal(data.manifest.labels[x.label], Number(x.text.match(/\d+/)![0]) % 2 ? 'good' : 'bad');
});

test('reuse, refusal on change, --force, --json, and same seed → byte-identical files', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  writeFileSync(input, reviews(100, (i) => (i % 3 ? 'pos' : 'neg')));
  const args = ['split', '--input', input, '--text-col', 'text', '--label-col', 'label', '--seed', '9'];
  const a = runCli([...args, '--out', join(dir, 'a')]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^ {2}neg\s+27\s+3\s+4\s+34$/m);
  assert.match(a.stdout, /^ {2}pos\s+53\s+7\s+6\s+66$/m);
  assert.equal(runCli([...args, '--out', join(dir, 'b')]).code, 0);
  for (const f of ['train.tsv', 'val.tsv', 'test.tsv']) {
    assert.ok(readFileSync(join(dir, 'a', f)).equals(readFileSync(join(dir, 'b', f))), `${f} byte-identical`);
  }

  const again = runCli([...args, '--out', join(dir, 'a')]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /reused cached split/);

  const changed = runCli([...args.slice(0, -1), '10', '--out', join(dir, 'a')]);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /^trialbook: .*a: already holds a split made from different inputs \(seed 9 → 10\); nothing was changed\. Use --force/);
  const before = readFileSync(join(dir, 'a', 'train.tsv'));
  assert.ok(readFileSync(join(dir, 'a', 'train.tsv')).equals(before));

  const forced = runCli([...args.slice(0, -1), '10', '--out', join(dir, 'a'), '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  const manifest = JSON.parse(forced.stdout);
  assert.equal(manifest.seed, 10);
  assert.equal(manifest.reused, false);
  assert.deepEqual(manifest.labels, ['neg', 'pos']);
  assert.equal(manifest.counts.train.neg + manifest.counts.val.neg + manifest.counts.test.neg, 34);
  assert.ok(!readFileSync(join(dir, 'a', 'val.tsv')).equals(readFileSync(join(dir, 'b', 'val.tsv'))), 'another seed, another split');
});

test('--study takes the data section; data options next to --study are refused', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'data.tsv'), reviews(50, (i) => String(i % 2)) + '게임 리뷰 3 별로\t1\n');
  const study = join(dir, 's.trialbook.json');
  writeFileSync(
    study,
    JSON.stringify({
      name: 's',
      data: { file: 'data.tsv', textColumn: 'text', labelColumn: 'label', splitDir: 'my-split' },
      tokenizer: { vocab: 'vocab.txt' },
      searchSpace: {},
      tuner: { type: 'random' },
    }),
  );
  const r = runCli(['split', '--study', study]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /duplicates: 1 repeated row/);
  assert.ok(existsSync(join(dir, 'my-split', 'manifest.json')));
  const clash = runCli(['split', '--study', study, '--seed', '3']);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /^trialbook: split: --seed cannot be combined with --study/);
});
