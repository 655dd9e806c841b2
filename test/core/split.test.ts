/**
 * splitDataset / readSplit on real files in temp folders: stratification, leakage, duplicates,
 * labels, determinism, reuse vs refusal vs force, and the bad inputs that concern data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRatios } from '../../src/core/ratios';
import { apportion, stratifiedCounts, readSplit, splitDataset, splitFromStudy, SPLITS, type SplitOptions } from '../../src/core/split';
import { loadStudy } from '../../src/core/study';
import { Rng } from '../../src/core/rng';
import { sharedPath, skipMessage, tempDir, userError } from '../helpers';

/** A labelled TSV with unique texts; `labelOf(i)` picks each row's label. */
function writeData(file: string, n: number, labelOf: (i: number) => string, extra: string[] = []): void {
  const rng = new Rng(7);
  const words = ['좋다', '별로', 'great', 'boring', '재밌다', '지루함', 'ㅋㅋ', '최고'];
  const lines = ['text\tlabel'];
  for (let i = 0; i < n; i++) lines.push(`리뷰 ${i} ${words[rng.int(words.length)]} ${words[rng.int(words.length)]}\t${labelOf(i)}`);
  writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
}

function opts(input: string, out: string, more: Partial<SplitOptions> = {}): SplitOptions {
  return { input, out, textColumn: 'text', labelColumn: 'label', ...more };
}

const splitBytes = (dir: string) => SPLITS.map((s) => readFileSync(join(dir, `${s}.tsv`), 'utf8'));

test('ratios: parts and fractions normalise alike; wrong ratios are clear errors', () => {
  assert.deepEqual(parseRatios('8:1:1'), [0.8, 0.1, 0.1]);
  assert.deepEqual(parseRatios('0.8:0.1:0.1'), [0.8, 0.1, 0.1]);
  assert.deepEqual(parseRatios([8, 1, 1]), parseRatios('80:10:10'));
  assert.deepEqual(parseRatios('0.7:0.2:0.1'), [0.7, 0.2, 0.1]);
  assert.deepEqual(parseRatios('1:1:1').map((x) => x.toFixed(6)), ['0.333333', '0.333333', '0.333333']);
  assert.match(userError(() => parseRatios('0.8:0.1:0.2')), /ratios: 0\.8:0\.1:0\.2 sums to 1\.1, not 1/);
  assert.match(userError(() => parseRatios('8:2:0')), /ratios: 8:2:0: every ratio must be positive/);
  assert.match(userError(() => parseRatios('8:-1:1')), /must be positive/);
  assert.match(userError(() => parseRatios('8:2')), /ratios: "8:2" is not three numbers/);
  assert.match(userError(() => parseRatios('a:b:c')), /is not three numbers/);
});

test('largest-remainder apportionment always adds up to n and stays within 1 of the quota', () => {
  for (const ratios of [[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.98, 0.01, 0.01]]) {
    for (let n = 0; n <= 257; n++) {
      const c = apportion(n, ratios);
      assert.equal(c[0] + c[1] + c[2], n, `n=${n} ratios=${ratios}`);
      c.forEach((v, i) => assert.ok(Math.abs(v - n * ratios[i]) < 1, `n=${n} part ${i}: ${v} vs ${n * ratios[i]}`));
    }
  }
});

test('stratified counts: exact per class and per split, many small classes do not all round into train', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const sizes = Array.from({ length: 1 + rng.int(12) }, () => rng.int(trial < 100 ? 6 : 400));
    const ratios = [[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3]][trial % 3];
    const counts = stratifiedCounts(sizes, ratios);
    counts.forEach((c, k) => assert.equal(c[0] + c[1] + c[2], sizes[k]));
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.deepEqual([0, 1, 2].map((s) => counts.reduce((a, c) => a + c[s], 0)), apportion(total, ratios), `sizes ${sizes}`);
    counts.forEach((c, k) => c.forEach((v, s) => assert.ok(Math.abs(v - sizes[k] * ratios[s]) < 2, `class ${k} split ${s}`)));
  }
  // Ten classes of two rows: per-class rounding alone would give 20/0/0.
  assert.deepEqual([0, 1, 2].map((s) => stratifiedCounts(Array(10).fill(2), [0.8, 0.1, 0.1]).reduce((a, c) => a + c[s], 0)), [16, 2, 2]);
});

test('stratified split: per-class proportions, every row used once, no text in two splits', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  // Unbalanced: 300 neg, 100 pos, 20 meh.
  writeData(input, 420, (i) => (i < 300 ? 'neg' : i < 400 ? 'pos' : 'meh'));
  const { manifest, reused } = splitDataset(opts(input, join(dir, 'split')));
  assert.equal(reused, false);
  assert.deepEqual(manifest.labels, ['meh', 'neg', 'pos'], 'string labels get ids in sorted order');
  assert.deepEqual(manifest.counts.train, { meh: 16, neg: 240, pos: 80 });
  assert.deepEqual(manifest.counts.val, { meh: 2, neg: 30, pos: 10 });
  assert.deepEqual(manifest.counts.test, { meh: 2, neg: 30, pos: 10 });
  const data = readSplit(join(dir, 'split'));
  const all = [...data.train, ...data.val, ...data.test];
  assert.equal(all.length, 420);
  assert.equal(new Set(all.map((r) => r.text)).size, 420, 'no text appears twice across splits');
  for (const s of SPLITS) {
    for (const [id, name] of data.manifest.labels.entries()) {
      assert.equal(data[s].filter((r) => r.label === id).length, manifest.counts[s][name], `${s}/${name}`);
    }
  }
  // Label ids point at the right names: rows 0-299 are neg in the input.
  const neg = manifest.labels.indexOf('neg');
  for (const r of all) assert.equal(r.label === neg, Number(r.text.split(' ')[1]) < 300, r.text);
  // The TSV holds label names as in the input.
  assert.match(readFileSync(join(dir, 'split', 'train.tsv'), 'utf8'), /^text\tlabel\n리뷰 \d+ .*\t(neg|pos|meh)\n/);
});

test('deterministic: same seed gives byte-identical files, another seed a different split', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  writeData(input, 200, (i) => String(i % 2));
  splitDataset(opts(input, join(dir, 'a'), { seed: 5 }));
  splitDataset(opts(input, join(dir, 'b'), { seed: 5 }));
  splitDataset(opts(input, join(dir, 'c'), { seed: 6 }));
  assert.deepEqual(splitBytes(join(dir, 'a')), splitBytes(join(dir, 'b')));
  assert.notDeepEqual(splitBytes(join(dir, 'a'))[1], splitBytes(join(dir, 'c'))[1]);
  // Same sizes either way: only membership changes.
  const size = (d: string) => splitBytes(join(dir, d)).map((s) => s.split('\n').length);
  assert.deepEqual(size('a'), size('c'));
});

test('numeric labels sort numerically, a given label set keeps its order', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  writeData(input, 60, (i) => ['10', '2', '1'][i % 3]);
  assert.deepEqual(splitDataset(opts(input, join(dir, 'a'))).manifest.labels, ['1', '2', '10']);
  const given = splitDataset(opts(input, join(dir, 'b'), { labels: ['10', '1', '2'] }));
  assert.deepEqual(given.manifest.labels, ['10', '1', '2']);
  assert.equal(readSplit(join(dir, 'b')).train.filter((r) => r.label === 0).length, given.manifest.counts.train['10']);
});

test('duplicates removed (first kept), conflicting labels dropped and reported; --keep-duplicates keeps them', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  // Lines: header 1, rows 2..101; extras on lines 102-105.
  writeData(input, 100, (i) => (i % 2 ? 'pos' : 'neg'), ['리뷰 0 dup\tneg', '리뷰 0 dup\tneg', 'same words\tpos', 'same words\tneg']);
  const r = splitDataset(opts(input, join(dir, 'a')));
  assert.equal(r.manifest.duplicatesRemoved, 1);
  const total = (m: typeof r.manifest) => SPLITS.reduce((a, s) => a + Object.values(m.counts[s]).reduce((x, y) => x + y, 0), 0);
  assert.equal(total(r.manifest), 101, '100 + one copy of the duplicate; both conflicting rows dropped');
  const text = r.report.join('\n');
  assert.match(text, /duplicates: 1 repeated row of the same text and label removed, the first occurrence kept \(1 texts repeated, e\.g\. lines 102 & 103\)/);
  assert.match(text, /conflicting labels: 1 text appear with different labels \(lines 104 & 105\); all 2 such rows dropped/);
  const texts = [...readSplit(join(dir, 'a')).train, ...readSplit(join(dir, 'a')).val, ...readSplit(join(dir, 'a')).test].map((x) => x.text);
  assert.ok(!texts.includes('same words'));
  assert.equal(texts.filter((x) => x === '리뷰 0 dup').length, 1);

  const k = splitDataset(opts(input, join(dir, 'b'), { dedupe: false }));
  assert.equal(total(k.manifest), 104);
  assert.match(k.report.join('\n'), /kept \(--keep-duplicates\)/);
});

test('bad rows fail with file:line: reason; --skip-bad skips and lists them', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  writeData(input, 50, (i) => String(i % 2), ['   \t1', 'no label\t', 'too\tmany\tfields', 'fine text\t1']);
  const out = join(dir, 'split');
  const msg = userError(() => splitDataset(opts(input, out)));
  assert.match(msg, new RegExp(`^${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:52: empty text in column "text" \\(3 bad rows in all, at lines 52, 53, 54\\)`));
  assert.match(msg, /--skip-bad/);
  assert.equal(existsSync(out), false, 'nothing written on error');
  const r = splitDataset(opts(input, out, { skipBad: true }));
  assert.deepEqual(r.manifest.skippedRows, [52, 53, 54]);
  assert.match(r.report.join('\n'), /skipped 3 bad rows at lines 52, 53, 54\n {2}line 52: empty text[^\n]*\n {2}line 53: missing label in column "label"\n {2}line 54: expected 2 fields \(as in the header\), found 3/);
});

test('unknown label (with a label set), one class only, missing column, empty split: clear errors, nothing written', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'split');
  const input = join(dir, 'data.tsv');
  writeData(input, 30, (i) => (i === 17 ? 'neutral' : i % 2 ? 'pos' : 'neg'));
  assert.match(userError(() => splitDataset(opts(input, out, { labels: ['neg', 'pos'] }))), /data\.tsv:19: unknown label "neutral" in column "label" \(allowed: neg, pos\)/);
  const one = join(dir, 'one.tsv');
  writeData(one, 30, () => '1');
  assert.match(userError(() => splitDataset(opts(one, out))), /one\.tsv: label column "label" has only one label, "1", in 30 usable rows; a classifier needs at least two/);
  assert.match(userError(() => splitDataset(opts(input, out, { textColumn: 'review' }))), /data\.tsv: text column "review" not found; the columns are: "text", "label"/);
  const tiny = join(dir, 'tiny.tsv');
  writeData(tiny, 6, (i) => String(i % 2));
  assert.match(userError(() => splitDataset(opts(tiny, out))), /tiny\.tsv: ratios 0\.8:0\.1:0\.1 leave the test split empty for 6 usable rows \(train 5, val 1, test 0\)/);
  assert.match(userError(() => splitDataset(opts(input, out, { ratios: '0.8:0.1:0.2' }))), /sums to 1\.1/);
  assert.equal(existsSync(out), false, 'no output folder after any of these errors');
});

test('reuse when nothing changed, refuse (saying what changed) otherwise, --force replaces', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  const out = join(dir, 'split');
  writeData(input, 80, (i) => String(i % 2));
  const first = splitDataset(opts(input, out));
  const before = readdirSync(out).map((f) => [f, statSync(join(out, f)).mtimeMs]);
  const again = splitDataset(opts(input, out, { ratios: '0.8:0.1:0.1' }));
  assert.equal(again.reused, true, '8:1:1 and 0.8:0.1:0.1 are the same split');
  assert.match(again.report[0], /reused cached split/);
  assert.equal(again.manifest.createdAt, first.manifest.createdAt);
  assert.deepEqual(readdirSync(out).map((f) => [f, statSync(join(out, f)).mtimeMs]), before, 'nothing rewritten');

  assert.match(userError(() => splitDataset(opts(input, out, { seed: 1 }))), /already holds a split made from different inputs \(seed 42 → 1\); nothing was changed\. Use --force/);
  assert.match(userError(() => splitDataset(opts(input, out, { ratios: '7:2:1' }))), /ratios 0\.8:0\.1:0\.1 → 0\.7:0\.2:0\.1/);
  assert.match(userError(() => splitDataset(opts(input, out, { skipBad: true }))), /bad rows now skipped/);
  writeFileSync(input, readFileSync(input, 'utf8') + 'one more row\t1\n');
  assert.match(userError(() => splitDataset(opts(input, out))), /input content changed/);
  assert.deepEqual(readdirSync(out).map((f) => [f, statSync(join(out, f)).mtimeMs]), before, 'refusals change nothing');

  const forced = splitDataset(opts(input, out, { force: true }));
  assert.equal(forced.reused, false);
  assert.match(forced.report[0], /replacing the split .*\(--force\): input content changed/);
  assert.equal(readSplit(out).train.length + readSplit(out).val.length + readSplit(out).test.length, 81);
});

test('a hand-edited split file is detected; a folder without manifest is an incomplete split and is redone', (t) => {
  const dir = tempDir(t);
  const input = join(dir, 'data.tsv');
  const out = join(dir, 'split');
  writeData(input, 80, (i) => String(i % 2));
  splitDataset(opts(input, out));
  const original = splitBytes(out);
  writeFileSync(join(out, 'val.tsv'), original[1].replace(/\t0\n/, '\t1\n'));
  assert.match(userError(() => splitDataset(opts(input, out))), /split: val\.tsv changed after the split was made .*use --force/);
  writeFileSync(join(out, 'manifest.json'), '{ torn');
  assert.match(userError(() => readSplit(out)), /manifest\.json: not valid JSON/);
  // An interrupted run leaves split files but no manifest: that folder is redone without --force.
  rmSync(join(out, 'manifest.json'));
  assert.match(userError(() => readSplit(out)), /no manifest\.json, so no complete split is there/);
  const redo = splitDataset(opts(input, out));
  assert.match(redo.report[0], /replacing an incomplete split/);
  assert.deepEqual(splitBytes(out), original);
});

test('splitFromStudy uses the study data section and the default split folder', (t) => {
  const dir = tempDir(t);
  writeData(join(dir, 'reviews.tsv'), 100, (i) => (i % 3 ? 'pos' : 'neg'));
  const studyFile = join(dir, 'demo.trialbook.json');
  writeFileSync(
    studyFile,
    JSON.stringify({
      name: 'demo',
      data: { file: 'reviews.tsv', textColumn: 'text', labelColumn: 'label', ratios: [0.6, 0.2, 0.2], seed: 3 },
      tokenizer: { vocab: 'vocab.txt' },
      searchSpace: {},
      tuner: { type: 'random' },
    }),
  );
  const r = splitFromStudy(loadStudy(studyFile));
  assert.equal(r.manifest.seed, 3);
  assert.deepEqual(r.manifest.ratios, [0.6, 0.2, 0.2]);
  assert.ok(existsSync(join(dir, '.trialbook', 'demo', 'split', 'manifest.json')));
  assert.equal(splitFromStudy(loadStudy(studyFile)).reused, true);
});

test('a study whose data has bad rows is told to set data.skipBadRows (tune has no --skip-bad), and then splits', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'reviews.tsv'), 'text\tlabel\n' + Array.from({ length: 40 }, (_, i) => `review ${i}\t${i % 2}`).join('\n') + '\n\t1\n');
  const study = { name: 'bad', data: { file: 'reviews.tsv', textColumn: 'text', labelColumn: 'label' }, tokenizer: { vocab: 'vocab.txt' }, searchSpace: {}, tuner: { type: 'random' } };
  const studyFile = join(dir, 'bad.trialbook.json');
  writeFileSync(studyFile, JSON.stringify(study));
  const msg = userError(() => splitFromStudy(loadStudy(studyFile)));
  assert.match(msg, /reviews\.tsv:42: empty text in column "text"; fix the file or skip bad rows \("skipBadRows": true in .*bad\.trialbook\.json's "data"\)$/);
  assert.doesNotMatch(msg, /--skip-bad/);
  writeFileSync(studyFile, JSON.stringify({ ...study, data: { ...study.data, skipBadRows: true } }));
  assert.deepEqual(splitFromStudy(loadStudy(studyFile)).manifest.skippedRows, [42]);
});

test('nsmc-dev: 20,000 reviews split with the empty one skipped and duplicates removed', (t) => {
  const file = sharedPath('data/nsmc-dev.tsv');
  if (!file) return t.skip(skipMessage('data/nsmc-dev.tsv'));
  const out = join(tempDir(t), 'split');
  assert.match(userError(() => splitDataset({ input: file, out, textColumn: 'document', labelColumn: 'label' })), /nsmc-dev\.tsv:10723: empty text in column "document"/);
  const { manifest } = splitDataset({ input: file, out, textColumn: 'document', labelColumn: 'label', skipBad: true });
  assert.deepEqual(manifest.labels, ['0', '1']);
  assert.deepEqual(manifest.skippedRows, [10723]);
  const data = readSplit(out);
  const all = [...data.train, ...data.val, ...data.test];
  // 20,000 rows − 1 empty − repeats of the same text; texts seen with both labels are dropped.
  assert.equal(all.length, 20000 - 1 - manifest.duplicatesRemoved - manifest.rows!.conflicting);
  // Counted independently with Python's csv module: 96 repeated texts, 19 of them with both labels.
  assert.equal(manifest.duplicatesRemoved, 157);
  assert.equal(manifest.rows!.conflicting, 119);
  assert.equal(manifest.conflictingTexts, 19);
  assert.equal(all.length, 19723);
  assert.equal(new Set(all.map((r) => r.text)).size, all.length);
  const ratio = data.train.length / all.length;
  assert.ok(Math.abs(ratio - 0.8) < 0.001, `train share ${ratio}`);
  for (const s of SPLITS) {
    const pos = data[s].filter((r) => r.label === 1).length / data[s].length;
    assert.ok(Math.abs(pos - 0.4956) < 0.01, `${s}: positive share ${pos}`);
  }
});

test('study option errors name the study file and key; an output path that is a file is refused', (t) => {
  const dir = tempDir(t);
  writeData(join(dir, 'reviews.tsv'), 30, (i) => String(i % 2));
  const studyFile = join(dir, 'bad.trialbook.json');
  const study = (data: object) =>
    writeFileSync(studyFile, JSON.stringify({ name: 'bad', data: { file: 'reviews.tsv', textColumn: 'text', labelColumn: 'label', ...data }, tokenizer: { vocab: 'v.txt' }, searchSpace: {}, tuner: { type: 'random' } }));
  study({ ratios: [0.8, 0.1, 0.2] });
  assert.match(userError(() => splitFromStudy(loadStudy(studyFile))), /bad\.trialbook\.json: data\.ratios: \[0\.8, 0\.1, 0\.2\] sums to 1\.1, not 1/);
  study({ labelColumn: 'text' });
  assert.match(userError(() => splitFromStudy(loadStudy(studyFile))), /bad\.trialbook\.json: data\.textColumn and data\.labelColumn are both "text"/);
  study({ file: 'nope.tsv' });
  assert.match(userError(() => splitFromStudy(loadStudy(studyFile))), /nope\.tsv: data file not found/);
  writeFileSync(join(dir, 'taken'), 'a file');
  assert.match(userError(() => splitDataset(opts(join(dir, 'reviews.tsv'), join(dir, 'taken')))), /taken: exists and is not a folder/);
  assert.equal(readFileSync(join(dir, 'taken'), 'utf8'), 'a file');
});

test('a failed write leaves no partial split behind', (t) => {
  const dir = tempDir(t);
  writeData(join(dir, 'reviews.tsv'), 30, (i) => String(i % 2));
  const out = join(dir, 'out');
  // test.tsv cannot be written (a folder is in the way): train.tsv and val.tsv, already written, go too.
  mkdirSync(join(out, 'test.tsv'), { recursive: true });
  assert.match(userError(() => splitDataset(opts(join(dir, 'reviews.tsv'), out))), /out\/test\.tsv: is a folder; give the name of a file to write/);
  assert.deepEqual(readdirSync(out), ['test.tsv']);
});
