/**
 * Each optimizer step is cut into micro-batches at its own padded length (a batch of short reviews
 * runs whole where the split's longest rows need several micro-batches), and accumulating them
 * gives the gradients of the whole batch at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine';
import { BertClassifier } from '../../src/engine/model';
import { presetConfig } from '../../src/engine/config';
import { activationBytesPerExample, MicroBatcher } from '../../src/engine/memory';
import { fullStrategy } from '../../src/engine/full-strategy';
import { toySplit, TOY_VOCAB, baseParams } from './toy';

const MiB = 1048576;
const config = presetConfig('tiny', TOY_VOCAB);

test('micro-batches are sized per step: short rows run whole, long rows split; a failure lowers the budget for every length', async () => {
  await initBackend();
  const batcher = new MicroBatcher(config, (8.5 * activationBytesPerExample(config, 48)) / MiB);
  assert.equal(batcher.size(32, 48), 8);
  assert.equal(batcher.size(32, 8), 32);
  // Spread evenly over the fewest micro-batches: 33 rows take 5 of 7 (not 8,8,8,8 and 1).
  assert.equal(batcher.size(33, 48), 7);
  batcher.ran(32, 32);
  batcher.ran(32, 8);
  batcher.ran(20, 8);
  // A shorter last batch in as many micro-batches does not change the reported size.
  batcher.ran(28, 7);
  assert.deepEqual(batcher.reported(32, 48), { microBatch: 8, accumulationSteps: 4 });
  batcher.failed(8, 48);
  assert.equal(batcher.size(32, 48), 4);
  const short = batcher.size(32, 8);
  assert.ok(short > 4 && short < 32, `rows of 8 tokens after the failure: ${short}`);
  // Before any step: the plan for a whole batch at the split's length.
  assert.deepEqual(new MicroBatcher(config, (8.5 * activationBytesPerExample(config, 48)) / MiB).reported(32, 48), { microBatch: 8, accumulationSteps: 4 });
});

test('each step runs at its own padded length in as few micro-batches as fit, with the loss and gradients of the whole batch', async () => {
  await initBackend();
  const split = toySplit(64, 48, 7);
  // Rows 0–31 are 5 tokens long (padded to 8), rows 32–63 up to 48.
  split.lengths.fill(5, 0, 32);
  split.lengths[40] = 48;
  const model = BertClassifier.fromSeed(config, 2, 1);
  const shapes: number[][] = [];
  const loss = model.loss.bind(model);
  model.loss = (batch, ...rest) => {
    shapes.push(batch.ids.shape);
    return loss(batch, ...rest);
  };
  const params = { ...baseParams, batch_size: 32, max_seq_len: 48, dropout_rate: 0.1 };
  const cut = fullStrategy(model, split, split, params, { budgetMiB: (8.5 * activationBytesPerExample(config, 48)) / MiB });
  const whole = fullStrategy(model, split, split, params, { budgetMiB: 1e6 });
  const before = tf.memory().numTensors;
  try {
    for (const [rows, expected] of [
      [Array.from({ length: 32 }, (_, i) => i), [[32, 8]]],
      [Array.from({ length: 32 }, (_, i) => 32 + i), [[8, 48], [8, 48], [8, 48], [8, 48]]],
    ] as const) {
      shapes.length = 0;
      const a = cut.grads([...rows], 3, 32);
      assert.deepEqual(shapes, expected);
      const b = whole.grads([...rows], 3, 32);
      assert.ok(Math.abs(a.loss.dataSync()[0] - b.loss.dataSync()[0]) < 1e-6);
      let worst = 0;
      for (const [n, g] of a.grads) {
        const ga = g.dataSync();
        const gb = b.grads.get(n)!.dataSync();
        const scale = Math.max(1e-6, ...Array.from(gb, Math.abs));
        for (let i = 0; i < ga.length; i++) worst = Math.max(worst, Math.abs(ga[i] - gb[i]) / scale);
      }
      assert.ok(worst < 1e-5, `gradients differ by ${worst} of their largest value`);
      tf.dispose([a.loss, b.loss, ...a.grads.values(), ...b.grads.values()]);
    }
    assert.deepEqual({ micro: cut.microBatch(), steps: cut.accumulationSteps() }, { micro: 8, steps: 4 });
    assert.deepEqual({ micro: whole.microBatch(), steps: whole.accumulationSteps() }, { micro: 32, steps: 1 });
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});
