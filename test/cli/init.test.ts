import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  // A preset trains from scratch: its learning rates, no frozen random body, a batch the 32 train rows allow.
  assert.deepEqual(Object.keys(loaded.study.searchSpace).sort(), ['batch_size', 'dropout_rate', 'learning_rate', 'warmup_steps']);
  assert.deepEqual(loaded.study.searchSpace.learning_rate, { type: 'float', low: 2e-4, high: 2e-3, log: true });
  assert.deepEqual(loaded.study.searchSpace.batch_size, { type: 'choice', values: [16] });
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
  assert.match(r.stderr, /^ {2}tuner\.max_epochs: expected number, received string$/m);
  assert.match(r.stderr, /^ {2}budget\.maxTrails: unknown key \(did you mean maxTrials\?\)$/m);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});

test('init: tuner, name and model options; a model folder needs config.json', (t) => {
  const dir = tempDir(t);
  const { data, vocab } = fixture(dir);
  const out = join(dir, 'a.trialbook.json');
  const base = ['init', '--data', data, '--text-col', 'document', '--label-col', 'label', '--vocab', vocab];
  const r = runCli([...base, '--tuner', 'bayesian', '--name', 'steam-v2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const { study } = loadStudy(out);
  assert.equal(study.name, 'steam-v2');
  assert.deepEqual(study.tuner, { type: 'bayesian', initial_points: 5, acquisition: 'ei', beta: 2.6 });
  assert.equal(study.model, 'tiny');

  // A pretrained folder: the fine-tuning space (gentle learning rates, freeze_body).
  const pretrained = join(dir, 'bert');
  mkdirSync(pretrained);
  writeFileSync(join(pretrained, 'config.json'), JSON.stringify({ vocab_size: 5, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 16, max_position_embeddings: 64, type_vocab_size: 2 }));
  const p = runCli([...base, '--model', pretrained, '--out', join(dir, 'p.trialbook.json')]);
  assert.equal(p.code, 0, p.stderr);
  const ps = loadStudy(join(dir, 'p.trialbook.json')).study;
  assert.equal(ps.model, 'bert');
  assert.deepEqual(ps.searchSpace.learning_rate, { type: 'float', low: 5e-6, high: 1e-4, log: true });
  assert.deepEqual(ps.searchSpace.freeze_body, { type: 'bool' });

  const model = join(dir, 'krbert');
  const noModel = runCli([...base, '--model', model, '--out', join(dir, 'b.trialbook.json')]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /krbert.*config\.json/);
  assert.equal(existsSync(join(dir, 'b.trialbook.json')), false);

  const bad = runCli([...base, '--tuner', 'hyprband', '--out', join(dir, 'c.trialbook.json')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /hyprband/);
});

test('init: a missing data file or one-class labels are refused with the file named', (t) => {
  const dir = tempDir(t);
  const { vocab } = fixture(dir);
  const out = join(dir, 'x.trialbook.json');
  const missing = runCli(['init', '--data', join(dir, 'nope.tsv'), '--text-col', 'document', '--label-col', 'label', '--vocab', vocab, '--out', out]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.tsv/);
  const one = join(dir, 'one.csv');
  writeFileSync(one, 'text,label\n"좋아요, 정말",1\n최고,1\n');
  const r = runCli(['init', '--data', one, '--text-col', 'text', '--label-col', 'label', '--vocab', vocab, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /one\.csv: column "label" has 1 distinct label/);
  assert.equal(existsSync(out), false);
});
