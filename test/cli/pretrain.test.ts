/**
 * `trialbook pretrain` through the real CLI (a child process running the job in a worker): a
 * BERT folder with its MLM head that a study then fine-tunes, and bad input as one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStudy } from '../worker/fixtures';
import { runCli, tempDir } from '../helpers';

test('pretrain writes a BertForMaskedLM folder that a study fine-tunes as its model', (t) => {
  const dir = tempDir(t);
  makeStudy(dir);
  const out = join(dir, 'pt');
  const r = runCli(['pretrain', '--input', join(dir, 'data.tsv'), '--text-col', 'text', '--vocab', join(dir, 'vocab.txt'), '--model', 'tiny', '--out', out, '--epochs', '2', '--max-len', '16', '--batch-size', '16', '--lr', '1e-3', '--warmup', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.type === 'metric' && l.kind === 'epoch').length, 2);
  const result = lines.find((l) => l.type === 'result');
  assert.equal(result.savedTo, out);
  assert.equal(result.texts, 120);
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json']) assert.ok(existsSync(join(out, f)), f);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures, ['BertForMaskedLM']);
  assert.equal(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).do_lower_case, false);

  const study = makeStudy(dir, 120, { model: 'pt' });
  const tr = runCli(['train', study, '--params', '{"epochs":1}', '--json']);
  assert.equal(tr.code, 0, tr.stderr);
  const trained = tr.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'result');
  assert.ok(Number.isFinite(trained.bestValLoss));
  assert.match(tr.stderr, /no classifier for 2 labels; initialising a new head/);
});

test('pretrain: bad input is one line naming what to fix (exit 2)', (t) => {
  const dir = tempDir(t);
  makeStudy(dir);
  const noMask = join(dir, 'nomask.txt');
  writeFileSync(noMask, readFileSync(join(dir, 'vocab.txt'), 'utf8').replace('[MASK]\n', ''));
  const cases: Array<[string[], RegExp]> = [
    [['--input', join(dir, 'data.tsv'), '--out', join(dir, 'o'), '--model', 'tiny'], /--vocab is required to pretrain the preset "tiny" from scratch/],
    [['--input', join(dir, 'data.tsv'), '--out', join(dir, 'o'), '--model', 'tiny', '--vocab', noMask], /nomask\.txt: has no \[MASK\] token/],
    [['--input', join(dir, 'data.tsv'), '--out', join(dir, 'o'), '--vocab', join(dir, 'vocab.txt'), '--lr', 'fast'], /--lr: "fast" is not a number/],
    [['--input', join(dir, 'data.tsv'), '--out', join(dir, 'o'), '--vocab', join(dir, 'vocab.txt'), '--precision', 'fp8'], /--precision: "fp8" is not one of fp32, bf16, auto/],
    [['--input', join(dir, 'missing.tsv'), '--out', join(dir, 'o'), '--vocab', join(dir, 'vocab.txt')], /missing\.tsv/],
    [['--input', join(dir, 'data.tsv'), '--out', join(dir, 'o'), '--model', join(dir, 'nowhere')], /model ".*nowhere": neither a preset \(tiny, mini, small\) nor an existing folder/],
  ];
  for (const [args, want] of cases) {
    const r = runCli(['pretrain', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
