import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, sharedPath, skipMessage, tempDir } from '../helpers';
import { createTokenizer, lengths, loadVocab } from '../../src/core/tokenizer';
import { reviewsTsv, testVocab, writeVocab } from '../core/tokenizer-fixtures';

function fixture(t: { after: (fn: () => void) => void }) {
  const dir = tempDir(t);
  const input = join(dir, 'reviews.tsv');
  writeFileSync(input, reviewsTsv(400));
  return { dir, input, vocab: writeVocab(dir, testVocab()) };
}

test('tokenize writes {"i","ids","n"} per row in input order, equal to the library', (t) => {
  const f = fixture(t);
  const out = join(f.dir, 'out', 'ids.jsonl');
  const r = runCli(['tokenize', '--vocab', f.vocab, '--input', f.input, '--max-len', '24', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(out, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 400);
  const texts = readFileSync(f.input, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[1]);
  const tok = createTokenizer(loadVocab(f.vocab));
  lines.forEach((line, i) => {
    const row = JSON.parse(line) as { i: number; ids: number[]; n: number };
    assert.deepEqual(Object.keys(row), ['i', 'ids', 'n']);
    assert.equal(row.i, i);
    assert.deepEqual(row, { i, ...tok.encode(texts[i], 24) });
  });
  assert.ok(lines.some((l) => JSON.parse(l).n === 24), 'some rows are truncated');
  // --text-col picks another column (here the id column: digits only).
  const r2 = runCli(['tokenize', '--vocab', f.vocab, '--input', f.input, '--text-col', 'id', '--max-len', '8', '--out', out]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8').split('\n')[0]).n, 3);
});

test('tokenize: bad inputs fail with one clear line and leave no output', (t) => {
  const f = fixture(t);
  const out = join(f.dir, 'o.jsonl');
  mkdirSync(join(f.dir, 'v2'));
  const noCls = writeVocab(join(f.dir, 'v2'), ['[PAD]', '[UNK]', '[SEP]', 'a']);
  const empty = join(f.dir, 'empty.tsv');
  writeFileSync(empty, '');
  const cases: Array<[string[], RegExp]> = [
    [['--max-len', '2'], /--max-len: 2 is out of range/],
    [['--max-len', '513'], /--max-len: 513 is out of range/],
    [['--max-len', 'abc'], /--max-len: "abc" is not a whole number/],
    [['--max-len', '16', '--vocab', noCls], /vocab\.txt: the vocab has no \[CLS\]/],
    [['--max-len', '16', '--vocab', join(f.dir, 'missing.txt')], /missing\.txt: vocab file not found/],
    [['--max-len', '16', '--input', join(f.dir, 'nope.tsv')], /nope\.tsv: data file not found/],
    [['--max-len', '16', '--input', f.dir], /is a directory/],
    [['--max-len', '16', '--input', empty], /empty\.tsv: the file is empty/],
    [['--max-len', '16', '--text-col', 'body'], /text column "body" not found.*"document"/],
    [['--max-len', '16', '--quoting', 'odd'], /--quoting: "odd"/],
  ];
  for (const [extra, msg] of cases) {
    const args = ['tokenize', '--vocab', f.vocab, '--input', f.input, '--out', out];
    for (let i = 0; i < extra.length; i += 2) {
      const k = args.indexOf(extra[i]);
      if (k === -1) args.push(extra[i], extra[i + 1]);
      else args[k + 1] = extra[i + 1];
    }
    const r = runCli(args);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.ok(!existsSync(out), 'no partial output');
  }
  assert.deepEqual(readdirSync(f.dir).filter((n) => n.endsWith('.tmp')), []);
});

test('lengths --json gives the documented fields, equal to the library', (t) => {
  const f = fixture(t);
  const r = runCli(['lengths', '--vocab', f.vocab, '--input', f.input, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const st = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(st), ['count', 'mean', 'p50', 'p90', 'p95', 'p99', 'max', 'truncated']);
  assert.deepEqual(Object.keys(st.truncated), ['64', '128', '256', '512']);
  const texts = readFileSync(f.input, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[1]);
  assert.deepEqual(st, JSON.parse(JSON.stringify(lengths(createTokenizer(loadVocab(f.vocab)), texts))));
  assert.equal(st.count, 400);
  assert.ok(st.truncated['64'] > 0);
  const plain = runCli(['lengths', '--vocab', f.vocab, '--input', f.input]);
  assert.equal(plain.code, 0);
  assert.match(plain.stdout, /p95 \/ p99 +\d+ \/ \d+/);
  assert.match(plain.stdout, /truncated +at 64: \d+\.\d\d%/);
});

test('vocab builds a char vocab that tokenizes its corpus without [UNK]', (t) => {
  const f = fixture(t);
  const out = join(f.dir, 'built', 'vocab.txt');
  const r = runCli(['vocab', '--input', f.input, '--size', '5000', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const tokens = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.deepEqual(tokens.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.ok(tokens.includes('##화') && tokens.length < 5000);
  const ids = join(f.dir, 'ids.jsonl');
  assert.equal(runCli(['tokenize', '--vocab', out, '--input', f.input, '--max-len', '512', '--out', ids]).code, 0);
  for (const line of readFileSync(ids, 'utf8').trim().split('\n')) assert.ok(!JSON.parse(line).ids.includes(1), line);
  const small = runCli(['vocab', '--input', f.input, '--size', '20', '--out', out]);
  assert.equal(small.code, 0);
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 20);
  const bad = runCli(['vocab', '--input', f.input, '--size', '3', '--out', join(f.dir, 'x.txt')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /size: 3 is too small/);
  assert.ok(!existsSync(join(f.dir, 'x.txt')));
});

test('tokenize --quoting none on nsmc-dev reproduces the reference file byte for byte', (t) => {
  const tsv = sharedPath('data/nsmc-dev.tsv');
  const ref = sharedPath('data/nsmc-dev-krbert-ids-128.jsonl');
  const vocab = sharedPath('models/krbert-char16424/vocab.txt');
  if (!tsv || !ref || !vocab) return t.skip(skipMessage('data/nsmc-dev.tsv, data/nsmc-dev-krbert-ids-128.jsonl, models/krbert-char16424/vocab.txt'));
  const out = join(tempDir(t), 'ids.jsonl');
  const r = runCli(['tokenize', '--vocab', vocab, '--input', tsv, '--max-len', '128', '--quoting', 'none', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(ref)));
});
