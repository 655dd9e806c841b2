import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers';
import { splitDataset } from '../../src/core/split';
import { buildCharVocab, loadEncodedDataset, createTokenizer, loadVocab } from '../../src/core/tokenizer';
import { readSplit } from '../../src/core/split';
import { reviewsTsv } from './tokenizer-fixtures';

function setup(t: { after: (fn: () => void) => void }, rows: number) {
  const dir = tempDir(t);
  const input = join(dir, 'reviews.tsv');
  const tsv = reviewsTsv(rows);
  writeFileSync(input, tsv);
  const splitDir = join(dir, 'split');
  splitDataset({ input, textColumn: 'document', labelColumn: 'label', out: splitDir });
  const vocabPath = join(dir, 'vocab.txt');
  writeFileSync(vocabPath, buildCharVocab(tsv.split('\n').slice(1, 2000).map((l) => l.split('\t')[1] ?? ''), 400).join('\n') + '\n');
  return { dir, splitDir, vocabPath, cacheDir: join(dir, 'cache') };
}

test('encoded cache: a hit returns the same arrays for a small fraction of the first run', (t) => {
  const s = setup(t, 20_000);
  const opts = { splitDir: s.splitDir, vocabPath: s.vocabPath, maxLen: 128, cacheDir: s.cacheDir };
  const events: boolean[] = [];
  const t0 = performance.now();
  const first = loadEncodedDataset({ ...opts, onCache: (e) => events.push(e.hit) });
  const miss = performance.now() - t0;
  let hit = Infinity;
  let again = first;
  for (let i = 0; i < 5; i++) {
    const t1 = performance.now();
    again = loadEncodedDataset({ ...opts, onCache: (e) => events.push(e.hit) });
    hit = Math.min(hit, performance.now() - t1);
  }
  assert.deepEqual(events, [false, true, true, true, true, true]);
  assert.equal(first.train.count + first.val.count + first.test.count, 20_000);
  for (const k of ['train', 'val', 'test'] as const) {
    assert.deepEqual(again[k].ids, first[k].ids);
    assert.deepEqual(again[k].lengths, first[k].lengths);
    assert.deepEqual(again[k].labels, first[k].labels);
  }
  assert.deepEqual(again.labels, first.labels);
  assert.deepEqual(again.key, first.key);
  // What was cached is what the tokenizer gives for the split's texts.
  const split = readSplit(s.splitDir);
  const direct = createTokenizer(loadVocab(s.vocabPath)).encodeBatch(split.val.map((r) => r.text), 128);
  assert.deepEqual(again.val.ids, direct.ids);
  assert.deepEqual(Array.from(again.val.labels), split.val.map((r) => r.label));
  t.diagnostic(`miss ${miss.toFixed(1)} ms, hit ${hit.toFixed(2)} ms, ratio ${(hit / miss).toFixed(4)}`);
  assert.ok(hit < 0.1 * miss, `hit ${hit.toFixed(1)} ms vs miss ${miss.toFixed(1)} ms`);
});

test('encoded cache: truncated or altered files are rebuilt with a warning; keys separate', (t) => {
  const s = setup(t, 600);
  const opts = { splitDir: s.splitDir, vocabPath: s.vocabPath, maxLen: 32, cacheDir: s.cacheDir };
  const good = loadEncodedDataset(opts);
  const [file] = readdirSync(s.cacheDir);
  const path = join(s.cacheDir, file);
  const bytes = readFileSync(path);
  const damage = [
    () => truncateSync(path, bytes.length - 7),
    () => truncateSync(path, 20),
    () => {
      const b = Buffer.from(bytes);
      b[60] ^= 1; // inside the header JSON
      writeFileSync(path, b);
    },
    () => writeFileSync(path, Buffer.concat([bytes, Buffer.from([0])])),
  ];
  for (const d of damage) {
    d();
    const warnings: string[] = [];
    const hits: boolean[] = [];
    const ds = loadEncodedDataset({ ...opts, warn: (m) => warnings.push(m), onCache: (e) => hits.push(e.hit) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /encoded cache is damaged .*rebuilding/);
    assert.ok(warnings[0].includes(path));
    assert.deepEqual(hits, [false]);
    assert.deepEqual(ds.train.ids, good.train.ids);
    assert.deepEqual(readFileSync(path), bytes);
  }
  // Another max_len or flags: another cache file, no warning.
  const warnings: string[] = [];
  const other = loadEncodedDataset({ ...opts, maxLen: 16, warn: (m) => warnings.push(m) });
  loadEncodedDataset({ ...opts, lowercase: true, warn: (m) => warnings.push(m) });
  assert.equal(other.train.maxLen, 16);
  assert.deepEqual(warnings, []);
  assert.equal(readdirSync(s.cacheDir).filter((f) => f.endsWith('.bin')).length, 3);
  assert.throws(() => loadEncodedDataset({ ...opts, maxLen: 600 }), /max_len: 600/);
  assert.throws(() => loadEncodedDataset({ ...opts, splitDir: s.dir }), /no manifest\.json/);
});
