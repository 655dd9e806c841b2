import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DEFAULTS, generateDemoCorpus, writeDemoWorkspace } from '../../src/core/demo';
import { loadStudy } from '../../src/core/study';
import { loadVocab } from '../../src/core/tokenizer';
import { tempDir } from '../helpers';
import { STUDY_SCHEMA_PATH, studyJsonSchemaText } from '../../src/core/study-schema';
import { repoRoot } from '../helpers';

test('the demo corpus is deterministic for a seed and differs across seeds', () => {
  const a = generateDemoCorpus({ count: 500, seed: 3 });
  const b = generateDemoCorpus({ count: 500, seed: 3 });
  const c = generateDemoCorpus({ count: 500, seed: 4 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('the demo corpus looks like real reviews: balanced, Korean, a long tail, duplicates', () => {
  const rows = generateDemoCorpus({ count: 3000, seed: 7 });
  const pos = rows.filter((r) => r.label === 1).length / rows.length;
  assert.ok(pos > 0.4 && pos < 0.6, `positive share ${pos}`);
  assert.ok(rows.every((r) => /[가-힣]/.test(r.text)), 'every review has Hangul');
  const long = rows.filter((r) => r.text.length > 256).length;
  assert.ok(long > 30, `${long} reviews over 256 characters`);
  assert.ok(new Set(rows.map((r) => r.text)).size < rows.length, 'some exact duplicates');
  assert.ok(rows.every((r) => !/[\t\n]/.test(r.text)));
  // The noise and the hard cases are all there.
  const share = (re: RegExp) => rows.filter((r) => re.test(r.text)).length / rows.length;
  assert.ok(share(/\p{Extended_Pictographic}/u) > 0.1, 'emoji');
  assert.ok(share(/\b(gg|lag|pay to win|refund)\b/) > 0.03, 'English');
  assert.ok(share(/(ㅋㅋ|ㅠㅠ|ㅜㅜ|!!!)/) > 0.1, 'repeated characters');
  assert.ok(share(/나쁘지 않아요|좋지 않아요/) > 0.1, 'negated predicates');
  assert.ok(share(/(하지만|그런데|근데|그래도|반면에)/) > 0.2, 'mixed reviews that turn around');
  assert.ok(rows.some((r) => r.text.length > 1000) && rows.every((r) => r.text.length < 2500), 'long tail, bounded');
  // Particles agree with the noun (서버가, 그래픽이), apart from the typos.
  assert.ok(share(/서버가|그래픽이/) > 0.05 && share(/서버이 |그래픽가 /) < 0.01);
});

test('the committed demo data stays small and its study is the quick CPU study', () => {
  assert.ok(readFileSync(join(repoRoot, 'examples', 'demo', 'reviews.tsv')).length < 1024 * 1024);
  const { study } = loadStudy(join(repoRoot, 'examples', 'demo', 'demo.trialbook.json'));
  assert.equal(study.model, 'tiny');
  assert.deepEqual([study.tuner.type, study.budget.maxTrials, study.training.epochs, study.training.max_seq_len], ['hyperband', 6, 2, 64]);
  assert.deepEqual(Object.keys(study.searchSpace).sort(), ['batch_size', 'dropout_rate', 'freeze_body', 'learning_rate', 'warmup_steps']);
});

test('the demo workspace is a valid study whose vocab and data belong together', (t) => {
  const dir = tempDir(t);
  writeDemoWorkspace(dir, { count: 400, seed: 1 });
  const loaded = loadStudy(join(dir, 'demo.trialbook.json'));
  const vocab = loadVocab(loaded.resolve(loaded.study.tokenizer.vocab));
  assert.ok(vocab.tokens.length > 100);
  const tsv = readFileSync(loaded.resolve(loaded.study.data.file), 'utf8').split('\n');
  assert.equal(tsv[0], 'id\tdocument\tlabel');
  assert.equal(tsv.filter(Boolean).length, 401);
  assert.match(readFileSync(loaded.resolve(loaded.study.notes!), 'utf8'), /!\[\[/);
});

test('the committed study JSON Schema is the one the zod schema generates', () => {
  const committed = readFileSync(join(repoRoot, STUDY_SCHEMA_PATH), 'utf8');
  assert.equal(committed, studyJsonSchemaText(), 'run: node --import tsx scripts/gen-schema.ts');
  const schema = JSON.parse(committed);
  assert.deepEqual(schema.required.sort(), ['data', 'name', 'searchSpace', 'tokenizer', 'tuner']);
});

test('examples/demo is exactly what the generator writes', (t) => {
  const dir = tempDir(t);
  writeDemoWorkspace(dir, DEMO_DEFAULTS);
  for (const f of ['reviews.tsv', 'vocab.txt', 'notes.md', 'demo.trialbook.json']) {
    assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(repoRoot, 'examples', 'demo', f))), `${f} differs: run node --import tsx scripts/gen-examples.ts`);
  }
});

test('the KR-BERT example study is valid', () => {
  const loaded = loadStudy(join(repoRoot, 'examples', 'steam-krbert.trialbook.json'));
  assert.equal(loaded.study.tuner.type, 'hyperband');
  assert.deepEqual((loaded.study.searchSpace.batch_size as { values: number[] }).values, [32, 64, 128, 256, 512]);
});
