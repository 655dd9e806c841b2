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
import { scoreRows } from '../../src/engine/score';
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
