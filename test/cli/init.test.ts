import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers';
import { loadStudy } from '../../src/core/study';

function fixture(dir: string): { data: string; vocab: string } {
  const data = join(dir, 'reviews.tsv');
  const rows = Array.from({ length: 40 }, (_, i) => `${i}\t${i % 2 ? '좋아요' : '별로'} ${i}\t${i % 2}`);
  writeFileSync(data, ['id\tdocument\tlabel', ...rows].join('\n') + '\n');
  const vocab = join(dir, 'vocab.txt');
  writeFileSync(vocab, '[PAD]\n[UNK]\n[CLS]\n[SEP]\n좋\n');
  return { data, vocab };
}

test('init writes a valid study with the workflow defaults and relative paths', (t) => {
  const dir = tempDir(t);
  const { data, vocab } = fixture(dir);
  const out = join(dir, 'studies', 'steam.trialbook.json');
  const r = runCli(['init', '--data', data, '--text-col', 'document', '--label-col', 'label', '--vocab', vocab, '--notes', join(dir, 'log.md'), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /labels 0: 20, 1: 20/);
  const loaded = loadStudy(out);
  assert.equal(loaded.study.name, 'steam');
  assert.equal(loaded.study.data.file, '../reviews.tsv');
  assert.equal(loaded.resolve(loaded.study.data.file), data);
  assert.equal(loaded.study.tuner.type, 'hyperband');
  assert.deepEqual(Object.keys(loaded.study.searchSpace).sort(), ['batch_size', 'dropout_rate', 'freeze_body', 'learning_rate', 'warmup_steps']);
  assert.equal(loaded.study.tokenizer.lowercase, false);
  assert.equal(loaded.study.notes, '../log.md');
  // The study it wrote is one that split can run.
  const s = runCli(['split', '--study', out]);
  assert.equal(s.code, 0, s.stderr);
});

test('init names the columns that exist when a column is missing, and writes nothing', (t) => {
  const dir = tempDir(t);
  const { data, vocab } = fixture(dir);
  const out = join(dir, 'x.trialbook.json');
  const r = runCli(['init', '--data', data, '--text-col', 'review', '--label-col', 'label', '--vocab', vocab, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /text column "review" not found; the columns are: "id", "document", "label"/);
  assert.equal(existsSync(out), false);
});

test('init refuses to overwrite without --force', (t) => {
  const dir = tempDir(t);
  const { data, vocab } = fixture(dir);
  const out = join(dir, 'x.trialbook.json');
  writeFileSync(out, '{}');
  const args = ['init', '--data', data, '--text-col', 'document', '--label-col', 'label', '--vocab', vocab, '--out', out];
  const r = runCli(args);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /already exists; pass --force/);
  assert.equal(readFileSync(out, 'utf8'), '{}');
  assert.equal(runCli([...args, '--force']).code, 0);
});

test('a study file with a wrong type or an unknown key names the file and the key path', (t) => {
  const dir = tempDir(t);
  const { data, vocab } = fixture(dir);
  const out = join(dir, 's.trialbook.json');
  assert.equal(runCli(['init', '--data', data, '--text-col', 'document', '--label-col', 'label', '--vocab', vocab, '--out', out]).code, 0);
  const study = JSON.parse(readFileSync(out, 'utf8'));
  study.tuner.max_epochs = 'many';
  study.budget.maxTrails = 5;
  writeFileSync(out, JSON.stringify(study));
  const r = runCli(['plan', out]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(out), r.stderr);
  assert.match(r.stderr, /tuner\.max_epochs: .*number/);
  assert.match(r.stderr, /budget: .*maxTrails/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});
