import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSearchSpace, loadStudy } from '../../src/core/study';
import { studyDefaults } from '../../src/core/study-defaults';
import { checkSettings, preflight, tunerBudget } from '../../src/runner/preflight';
import { runCli, tempDir, writeStudyFile } from '../helpers';

/** A data file of `rows` labelled rows (the estimate before any split: rows × 0.8). */
function data(dir: string, rows: number): void {
  writeFileSync(join(dir, 'd.tsv'), `text\tlabel\n${Array.from({ length: rows }, (_, i) => `리뷰 ${i}\t${i % 2}`).join('\n')}\n`);
}

test('the old wizard defaults for a from-scratch tiny on 1,897 train rows: warm-up and learning rate are named', (t) => {
  const dir = tempDir(t);
  data(dir, 2372);
  const loaded = loadStudy(writeStudyFile(dir, { model: 'tiny', searchSpace: defaultSearchSpace(), tuner: { type: 'bayesian' } }));
  const p = preflight(loaded);
  assert.equal(p.trainRows, 1897);
  assert.equal(p.estimated, true);
  const byKey = new Map(p.issues.map((i) => [i.key, i]));
  assert.deepEqual([...byKey.keys()].sort(), ['searchSpace.learning_rate', 'searchSpace.warmup_steps']);
  assert.match(byKey.get('searchSpace.warmup_steps')!.message, /warm-up of up to 2000 steps, but a trial at batch_size 512 trains only 12 steps \(about 1897 train rows, 3 epochs\): its learning rate never leaves warm-up/);
  assert.match(byKey.get('searchSpace.learning_rate')!.message, /"tiny" is trained from scratch/);
  assert.ok(p.issues.every((i) => i.level === 'warning'));
  // The new defaults for the same data pass.
  const d = studyDefaults({ trainRows: 1897, pretrained: false });
  assert.deepEqual(checkSettings(loadStudy(writeStudyFile(dir, { name: 'new', model: 'tiny', training: d.training, searchSpace: d.searchSpace, tuner: { type: 'bayesian' } })).study, 1897), []);
});

test('a batch larger than the train split, and a pretrained model at a from-scratch learning rate', (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'bert');
  mkdirSync(model);
  writeFileSync(join(model, 'config.json'), '{}');
  writeFileSync(join(model, 'model.safetensors'), '');
  const { study } = loadStudy(writeStudyFile(dir, { model: './bert', searchSpace: { learning_rate: { type: 'float', low: 1e-4, high: 1e-3, log: true }, batch_size: { type: 'choice', values: [16, 256] } } }));
  const issues = checkSettings(study, 200);
  assert.deepEqual(issues.map((i) => i.key), ['searchSpace.batch_size', 'searchSpace.learning_rate']);
  assert.match(issues[0]!.message, /batch_size 256 is larger than the train split \(200 train rows\)/);
  assert.match(issues[1]!.message, /high for fine-tuning a pretrained BERT/);
  // With the body frozen only the head trains, at the larger rates: no warning. When the search
  // may also unfreeze it, the warning stays.
  const head = (freeze_body: object) => checkSettings(loadStudy(writeStudyFile(dir, { model: './bert', searchSpace: { learning_rate: { type: 'float', low: 1e-4, high: 1e-2, log: true }, freeze_body } })).study, 200).map((i) => i.key);
  assert.deepEqual(head({ type: 'fixed', value: true }), []);
  assert.deepEqual(head({ type: 'choice', values: [true] }), []);
  assert.deepEqual(head({ type: 'bool' }), ['searchSpace.learning_rate']);
});

test('missing data, vocabulary or model files are errors; the budget is what the tuner spends', (t) => {
  const dir = tempDir(t);
  const loaded = loadStudy(writeStudyFile(dir, { data: { file: 'gone.tsv', textColumn: 'text', labelColumn: 'label' }, tokenizer: { vocab: 'nope.txt' }, model: './missing-model', searchSpace: {}, tuner: { type: 'hyperband', max_epochs: 9, factor: 3 } }));
  const p = preflight(loaded);
  assert.deepEqual(p.issues.filter((i) => i.level === 'error').map((i) => i.key), ['data.file', 'tokenizer.vocab', 'model']);
  // A folder with config.json but no weights in any layout Hugging Face writes.
  mkdirSync(join(dir, 'missing-model'));
  writeFileSync(join(dir, 'missing-model', 'config.json'), '{}');
  assert.match(preflight(loaded).issues.find((i) => i.key === 'model')!.message, /has no weights \(looked for model\.safetensors, .*pytorch_model\.bin/);
  writeFileSync(join(dir, 'missing-model', 'pytorch_model.bin'), '');
  assert.equal(preflight(loaded).issues.filter((i) => i.key === 'model').length, 0);
  assert.deepEqual(p.budget, { runs: 22, epochs: 69 });
  assert.deepEqual(tunerBudget({ ...loaded.study, tuner: { type: 'random' }, budget: { ...loaded.study.budget, maxTrials: 6, repeats: 2 } }), { runs: 12, epochs: 36 });
});

test('tune: a missing data file stops before anything is written (one line, exit 2); a warning names the key', (t) => {
  const dir = tempDir(t);
  const gone = writeStudyFile(dir, { name: 'gone', data: { file: 'gone.tsv', textColumn: 'text', labelColumn: 'label' }, searchSpace: { learning_rate: { type: 'float', low: 2e-4, high: 2e-3, log: true } } });
  const r = runCli(['tune', gone]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  // Loading the study checks its data file first; the pre-flight check says the same for the editor.
  assert.match(r.stderr, /gone\.tsv.*(not found|does not exist)/);
  assert.match(preflight(loadStudy(gone)).issues[0]!.message, /the data file .*gone\.tsv does not exist/);
  assert.equal(existsSync(join(dir, '.trialbook', 'gone', 'journal.jsonl')), false);
  const warm = writeStudyFile(dir, { name: 'warm', searchSpace: { learning_rate: { type: 'float', low: 2e-4, high: 2e-3, log: true }, warmup_steps: { type: 'choice', values: [0, 500] } }, training: { epochs: 1 }, budget: { maxTrials: 1 } });
  const w = runCli(['tune', warm], { env: { ...process.env, TRIALBOOK_TEST_OBJECTIVE: 'quadratic', TRIALBOOK_TEST_EPOCH_MS: '1' } });
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stderr, /^warning: .*warm\.trialbook\.json: searchSpace\.warmup_steps: warm-up of up to 500 steps/m);
});
