/**
 * Forward-only passes (validation, predict, evaluate, frozen features) are sized by the memory
 * model for their own sequence length, retried smaller when an allocation fails anyway, and a
 * failure that persists is reported as out of memory with the size that failed — the same code
 * path that scores BERT-base at max_len 512 within the 4 GiB wasm heap (bench/bert-base-512.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, isEngineError } from '../../src/engine';
import { BertClassifier } from '../../src/engine/model';
import { presetConfig } from '../../src/engine/config';
import { forwardBytesPerExample, forwardRows } from '../../src/engine/memory';
import { planPasses, scoreRows } from '../../src/engine/score';
import type { BertConfig } from '../../src/engine/types';
import { toySplit, TOY_VOCAB } from './toy';
import { failPassesAbove } from '../../testing/engine-faults';

const base: BertConfig = { vocab_size: 16424, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 };

test('the forward memory model: fewer rows for longer sequences, within the budget, never zero', () => {
  const rows = [64, 128, 256, 512].map((s) => forwardRows(base, s, 1536));
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i] < rows[i - 1], `rows by length ${rows}`);
  assert.ok(rows[3] * forwardBytesPerExample(base, 512) <= 1536 * 1048576, `${rows[3]} rows at 512`);
  assert.ok(rows[3] < 32, `BERT-base at 512 scores fewer than validation's old fixed 32 rows: ${rows[3]}`);
  assert.equal(forwardRows(base, 512, 1), 1);
});

test('scoring: same probabilities whatever the budget; a failed pass is retried smaller; a persistent failure is oom with its size', async () => {
  await initBackend('wasm');
  const model = BertClassifier.fromSeed(presetConfig('tiny', TOY_VOCAB), 2, 3);
  const split = toySplit(150, 24, 5);
  try {
    const roomy = scoreRows(model, split, { budgetMiB: 1536 });
    // A budget that fits a couple of rows per pass: many small passes, the same numbers.
    const tight = scoreRows(model, split, { budgetMiB: (2.5 * forwardBytesPerExample(model.config, 24)) / 1048576 });
    assert.ok(Math.max(...roomy.map((p, i) => Math.abs(p - tight[i]))) < 1e-5);
    const logs: string[] = [];
    const before = tf.memory().numTensors;
    const retried = scoreRows(model, split, { budgetMiB: 1536, log: (_l, s) => logs.push(s), beforePass: failPassesAbove(5, 'wasm') });
    assert.equal(tf.memory().numTensors, before, 'a failed pass frees its tensors');
    assert.ok(Math.max(...roomy.map((p, i) => Math.abs(p - retried[i]))) < 1e-5);
    assert.ok(logs.some((l) => /allocation failed for \d+ rows at sequence length \d+ \(memory access out of bounds/.test(l)), logs.join('\n'));
    assert.throws(() => scoreRows(model, split, { budgetMiB: 1536, beforePass: failPassesAbove(0, 'wasm') }), (e: Error) => isEngineError(e) && e.reason === 'oom' && /out of memory in a forward pass: \d+ rows at sequence length \d+ \(memory access out of bounds.*then 1 row at sequence length/.test(e.message));
  } finally {
    model.dispose();
  }
});

test('pass plan: rows of one length go in full passes; short rows are not padded to long ones; every row once, within the limits', () => {
  const work = (padded: number[], sizes: number[]) => {
    let i = 0;
    let tokens = 0;
    for (const n of sizes) {
      tokens += n * padded[i + n - 1];
      i += n;
    }
    assert.equal(i, padded.length, `the passes cover ${i} of ${padded.length} rows`);
    return tokens;
  };
  assert.deepEqual(planPasses(Array(200).fill(128), 64, () => 1000), [64, 64, 64, 8]);
  // NSMC-like: most reviews short, a few long. Fixed passes of 64 pad 48 short rows to 128.
  const nsmcLike = [...Array(112).fill(16), ...Array(16).fill(128)];
  const plan = planPasses(nsmcLike, 64, () => 1000);
  assert.ok(work(nsmcLike, plan) <= 128 * 16 + 112 * 16, `plan ${plan}: ${work(nsmcLike, plan)} padded tokens`);
  assert.ok(work(nsmcLike, plan) < work(nsmcLike, [64, 64]) / 2);
  // The memory model's cap at each length holds, the longest rows deciding.
  const capped = planPasses(nsmcLike, 64, (len) => (len > 64 ? 5 : 40));
  let i = 0;
  for (const n of capped) {
    const len = nsmcLike[i + n - 1];
    assert.ok(n <= (len > 64 ? 5 : 40), `${n} rows at ${len}`);
    i += n;
  }
  work(nsmcLike, capped);
  assert.deepEqual(planPasses([], 64, () => 10), []);
});

test('scoring a short-heavy split: the engine runs short rows apart from long ones, with the same probabilities', async () => {
  await initBackend('wasm');
  const model = BertClassifier.fromSeed(presetConfig('tiny', TOY_VOCAB), 2, 3);
  // 56 rows of 6 tokens, 8 of 120: one fixed pass of 64 would run all 64 at length 120.
  const short = toySplit(56, 8, 1);
  const long = toySplit(8, 120, 2);
  const maxLen = 120;
  const ids = new Int32Array(64 * maxLen);
  const lengths = new Uint16Array(64);
  for (let r = 0; r < 64; r++) {
    const [from, k] = r < 56 ? [short, r] : [long, r - 56];
    const len = r < 56 ? 6 : 120;
    ids.set(from.ids.subarray(k * from.maxLen, k * from.maxLen + len), r * maxLen);
    ids[r * maxLen + len - 1] = 3;
    lengths[r] = len;
  }
  const split = { maxLen, count: 64, ids, lengths, labels: new Int32Array(64) };
  try {
    const passes: Array<[number, number]> = [];
    const probs = scoreRows(model, split, { budgetMiB: 1536, beforePass: (n, len) => passes.push([n, len]) });
    assert.deepEqual(passes, [[56, 8], [8, 120]]);
    // A budget of one long row a pass cuts the split differently: the same numbers.
    const single = scoreRows(model, split, { budgetMiB: forwardBytesPerExample(model.config, 120) / 1048576 });
    assert.ok(Math.max(...probs.map((p, i) => Math.abs(p - single[i]))) < 1e-5);
  } finally {
    model.dispose();
  }
});
