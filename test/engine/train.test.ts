import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, trainModel, isEngineError } from '../../src/engine';
import type { Metric } from '../../src/protocol/messages';
import { toySplit, TOY_VOCAB, baseParams } from './toy';
import { failPassesAbove } from '../../testing/engine-faults';

const train = toySplit(256, 12, 1);
const val = toySplit(64, 12, 2);
const input = (over: Partial<typeof baseParams> = {}) => ({ model: 'tiny', vocabSize: TOY_VOCAB, numLabels: 2, train, val, params: { ...baseParams, max_seq_len: 12, ...over } });

test('learns a separable toy task (>0.9 val accuracy), reports metrics, keeps tensor count flat', async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const metrics: Metric[] = [];
  const r = await trainModel({ ...input({ epochs: 3 }), logEverySteps: 5 }, { onMetric: (m) => metrics.push(m) });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by a training run');
  assert.ok(r.bestValAccuracy > 0.9, `val accuracy ${r.bestValAccuracy}`);
  assert.equal(r.epochsRun, 3);
  assert.equal(r.curve.length, 3);
  const epochEnds = metrics.filter((m) => m.val_loss != null);
  const live = metrics.filter((m) => m.val_loss == null);
  assert.equal(epochEnds.length, 3);
  assert.ok(live.length >= 3, 'live metrics every 5 steps');
  for (const m of epochEnds) {
    for (const k of ['train_loss', 'val_loss', 'val_accuracy', 'learning_rate', 'examples_per_sec', 'elapsed_s'] as const) assert.equal(typeof m[k], 'number', k);
  }
  // Linear decay: the learning rate falls from epoch to epoch after warm-up.
  assert.ok(epochEnds[0].learning_rate! > epochEnds[2].learning_rate!);
  assert.ok(epochEnds[2].train_loss! < epochEnds[0].train_loss!);
  assert.equal(r.backend, 'wasm');
  assert.ok(r.peakRssMiB > 0);
});

test('same seed gives the same val loss; another seed does not', async () => {
  const a = await trainModel(input({ epochs: 1 }));
  const b = await trainModel(input({ epochs: 1 }));
  const c = await trainModel(input({ epochs: 1, seed: 2 }));
  assert.equal(a.bestValLoss, b.bestValLoss);
  assert.notEqual(a.bestValLoss, c.bestValLoss);
});

test('micro-batching (memory budget, then simulated OOM) matches the full batch', async () => {
  const full = await trainModel(input({ epochs: 1, batch_size: 32 }));
  assert.equal(full.microBatch, 32);
  assert.equal(full.accumulationSteps, 1);
  // A budget this small fits a few rows of 12 tokens per micro-batch.
  const budget = await trainModel({ ...input({ epochs: 1, batch_size: 32 }), memoryBudgetMiB: 2 });
  assert.ok(budget.microBatch < 32 && budget.accumulationSteps > 1, `micro ${budget.microBatch}`);
  assert.ok(Math.abs(budget.bestValLoss - full.bestValLoss) < 1e-4, `${budget.bestValLoss} vs ${full.bestValLoss}`);
  // A batch_size above the row count: accumulation reports the micro-batches the rows took.
  const wide = await trainModel({ ...input({ epochs: 1, batch_size: 4096 }), memoryBudgetMiB: 2 });
  assert.equal(wide.accumulationSteps, Math.ceil(train.count / wide.microBatch));
  // Every row 12 tokens long, so every step has the same size: the first step halves twice
  // (32 → 16 → 8 rows) and the rest of the run keeps the lowered budget without failing again.
  const even = { ...train, lengths: new Uint16Array(train.count).fill(12) };
  const fullEven = await trainModel({ ...input({ epochs: 1, batch_size: 32 }), train: even });
  const logs: string[] = [];
  const before = tf.memory().numTensors;
  const oom = await trainModel({ ...input({ epochs: 1, batch_size: 32 }), train: even }, { onLog: (_l, t) => logs.push(t), beforePass: failPassesAbove(8) });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(oom.microBatch, 8);
  assert.equal(oom.accumulationSteps, 4);
  const failures = logs.filter((l) => /allocation failed with micro-batch/.test(l));
  assert.equal(failures.length, 2, logs.join('\n'));
  assert.match(failures[0], /micro-batch 32 at sequence length 12 .*retrying with 16/);
  assert.match(failures[1], /micro-batch 16 at sequence length 12 .*retrying with 8/);
  assert.ok(Math.abs(oom.bestValLoss - fullEven.bestValLoss) < 1e-4, `${oom.bestValLoss} vs ${fullEven.bestValLoss}`);
  await assert.rejects(trainModel(input({ epochs: 1 }), { beforePass: failPassesAbove(0) }), (e: Error) => isEngineError(e) && e.reason === 'oom' && /out of memory even with micro-batch 1/.test(e.message));
});

test('a diverging loss stops the trial with a clear reason (nan) and frees its tensors', async () => {
  const before = tf.memory().numTensors;
  await assert.rejects(trainModel(input({ epochs: 1, learning_rate: 1e30, warmup_steps: 0 })), (e: Error) => {
    assert.ok(isEngineError(e) && e.reason === 'nan', String(e));
    assert.match(e.message, /loss diverged/);
    assert.match(e.message, /lower/);
    return true;
  });
  assert.equal(tf.memory().numTensors, before);
});

test('shouldStop cancels within one step', async () => {
  const before = tf.memory().numTensors;
  let polls = 0;
  let stopAt = -1;
  const metrics: Metric[] = [];
  await assert.rejects(
    trainModel({ ...input({ epochs: 3, batch_size: 8 }), logEverySteps: 1 }, {
      onMetric: (m) => metrics.push(m),
      shouldStop: () => {
        polls++;
        if (polls === 5) stopAt = metrics.length;
        return polls >= 5;
      },
    }),
    (e: Error) => isEngineError(e) && e.reason === 'cancelled',
  );
  assert.equal(metrics.length, stopAt, 'no step ran after the cancel');
  assert.equal(metrics.length, 4);
  assert.equal(tf.memory().numTensors, before);
});

test('early stopping on val loss with patience keeps the best epoch', async () => {
  // A learning rate this high makes val loss wander, so patience 1 stops before the last epoch.
  const r = await trainModel(input({ epochs: 6, learning_rate: 5e-2, warmup_steps: 0, patience: 1 } as never));
  const losses = r.curve.map((m) => m.val_loss!);
  const bestIdx = losses.indexOf(Math.min(...losses));
  assert.equal(r.bestEpoch, bestIdx + 1);
  assert.equal(r.bestValLoss, losses[bestIdx]);
  if (r.stoppedEarly) assert.equal(r.epochsRun, r.bestEpoch + 1);
  else assert.equal(r.epochsRun, 6);
});

test('bad data give clear errors', async () => {
  const big = toySplit(8, 12, 3);
  big.ids[5] = TOY_VOCAB + 3;
  await assert.rejects(trainModel({ ...input(), train: big }), /token id 63, but the model's vocab_size is 60/);
  const long = toySplit(8, 600, 3);
  await assert.rejects(trainModel({ ...input({ max_seq_len: 600 }), train: long }), /max_len 600 is above the model's max_position_embeddings 512/);
  await assert.rejects(trainModel({ ...input(), model: 'huge' }), /neither a preset \(tiny, mini, small\) nor an existing folder/);
});
