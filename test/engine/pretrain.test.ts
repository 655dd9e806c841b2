/**
 * Masked-LM pre-training (engine/masking.ts, mlm-head.ts, mlm-strategy.ts, pretrain.ts): BERT's
 * masking, a head saved under Hugging Face's names and layout, a held-out loss that falls on text
 * with structure, and a folder that a fine-tuning run loads as its body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskRows, type MaskingSpec } from '../../src/engine/masking';
import { initBackend, isEngineError, trainModel } from '../../src/engine';
import { pretrainModel, PRETRAIN_CHECKPOINT, type PretrainInput } from '../../src/engine/pretrain';
import { MlmHead, seededMlmHead, storedMlmHead } from '../../src/engine/mlm-head';
import { mlmStrategy } from '../../src/engine/mlm-strategy';
import { MicroBatcher } from '../../src/engine/memory';
import { BertClassifier } from '../../src/engine/model';
import { presetConfig } from '../../src/engine/config';
import { readModelFolder } from '../../src/engine/weights';
import { readSafetensors } from '../../src/engine/safetensors';
import { Rng } from '../../src/core/rng';
import type { EncodedSplit } from '../../src/core/encoded';
import { toySplit, TOY_VOCAB, baseParams } from './toy';
import { tempDir } from '../helpers';

const spec: MaskingSpec = { special: new Set([0, 1, 2, 3, 4]), maskId: 4, vocabSize: TOY_VOCAB, probability: 0.15 };

test("masking follows BERT: 15% of each text's tokens, 80% [MASK], 10% random, 10% kept; never a special token; the same for an example in any batch", () => {
  const rows = toySplit(2000, 40, 3);
  const all = Array.from({ length: rows.count }, (_, i) => i);
  const m = maskRows(rows.ids, rows.lengths, 40, all, 7, 0, spec);
  let eligible = 0;
  for (let r = 0; r < rows.count; r++) eligible += rows.lengths[r] - 2; // [CLS] and [SEP] never
  const share = m.targets.length / eligible;
  assert.ok(share > 0.14 && share < 0.17, `share of tokens chosen ${share}`);
  let masked = 0;
  let kept = 0;
  for (let i = 0; i < m.positions.length; i++) {
    const at = m.positions[i];
    assert.ok(!spec.special.has(m.targets[i]) && m.targets[i] === rows.ids[at]);
    if (m.ids[at] === spec.maskId) masked++;
    else if (m.ids[at] === m.targets[i]) kept++;
    else assert.ok(!spec.special.has(m.ids[at]), 'a random replacement is never a special token');
  }
  const n = m.targets.length;
  assert.ok(Math.abs(masked / n - 0.8) < 0.03 && Math.abs(kept / n - 0.1) < 0.03, `[MASK] ${masked / n}, kept ${kept / n}`);
  // Rows with only a few tokens still get one target each.
  const short = maskRows(Int32Array.from([2, 11, 3, 0]), [3], 4, [0], 7, 0, spec);
  assert.deepEqual([...short.positions], [1]);
  // Row 5 alone, in the same epoch, is masked exactly as within the whole batch.
  const alone = maskRows(rows.ids.slice(5 * 40, 6 * 40), [rows.lengths[5]], 40, [5], 7, 0, spec);
  const inBatch = [...m.positions].map((p, i) => [p, i]).filter(([p]) => Math.floor(p / 40) === 5);
  assert.deepEqual([...alone.positions], inBatch.map(([p]) => p - 5 * 40));
  assert.deepEqual([...alone.ids], [...m.ids.slice(5 * 40, 6 * 40)]);
  // Another epoch draws again (dynamic masking).
  assert.notDeepEqual([...maskRows(rows.ids, rows.lengths, 40, all, 7, 1, spec).positions], [...m.positions]);
});

/** Texts with structure to learn: each repeats one token (a random one per text), so every masked token can be read from the rest. */
function repeatedTexts(count: number, maxLen: number, seed: number): EncodedSplit {
  const rng = new Rng(seed);
  const ids = new Int32Array(count * maxLen);
  const lengths = new Uint16Array(count);
  for (let r = 0; r < count; r++) {
    const len = 8 + rng.int(maxLen - 7);
    const token = 5 + rng.int(TOY_VOCAB - 5);
    ids[r * maxLen] = 2;
    ids.fill(token, r * maxLen + 1, r * maxLen + len - 1);
    ids[r * maxLen + len - 1] = 3;
    lengths[r] = len;
  }
  return { maxLen, count, ids, lengths, labels: new Int32Array(count) };
}

const input = (saveTo: string, over: Partial<PretrainInput> = {}): PretrainInput => ({
  model: 'tiny',
  vocabSize: TOY_VOCAB,
  texts: repeatedTexts(640, 24, 1),
  special: [...spec.special],
  maskId: spec.maskId,
  params: { learning_rate: 2e-3, warmup_steps: 20, batch_size: 32, epochs: 3, max_seq_len: 24, seed: 1 },
  saveTo,
  ...over,
});

test('pre-training lowers the held-out masked-LM loss, saves a BertForMaskedLM folder in HF layout, and continues from it', async (t) => {
  await initBackend();
  const dir = tempDir(t);
  const out = join(dir, 'pt');
  const before = tf.memory().numTensors;
  const r = await pretrainModel(input(out));
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by a pre-training run');
  const losses = r.curve.map((c) => c.val_loss!);
  t.diagnostic(`held-out masked-LM loss by epoch ${losses.map((l) => l.toFixed(3))}, accuracy ${r.curve.map((c) => c.val_accuracy!.toFixed(3))}`);
  assert.ok(losses[2] < 0.6 * Math.log(TOY_VOCAB), `loss ${losses[2]} vs chance ${Math.log(TOY_VOCAB)}`);
  assert.ok(r.curve[2].val_accuracy! > 0.3);
  const folder = readModelFolder(out);
  assert.deepEqual(JSON.parse(JSON.stringify(folder.config)).vocab_size, TOY_VOCAB);
  const names = [...readSafetensors(join(out, 'model.safetensors')).keys()];
  assert.ok(names.includes('cls.predictions.transform.dense.weight') && names.includes('cls.predictions.bias') && names.includes('bert.pooler.dense.weight'));
  assert.ok(!names.some((n) => n.startsWith('classifier.') || n === 'cls.predictions.decoder.weight'), 'no classifier; the decoder stays tied to the word embeddings');

  // The head as HF computes it from the file: transform (x·Wᵀ + b, GELU, LayerNorm), then h·Eᵀ + bias.
  const w = folder.weights.tensors;
  const H = folder.config.hidden_size;
  const head = new MlmHead(folder.config, storedMlmHead(w, folder.config)!);
  const hidden = tf.randomNormal([5, H], 0, 1, 'float32', 3) as tf.Tensor2D;
  const t2 = (n: string) => tf.tensor(w.get(n)!.data, w.get(n)!.shape);
  const ours = tf.tidy(() => head.logits(hidden, t2('bert.embeddings.word_embeddings.weight') as tf.Tensor2D).dataSync());
  const textbook = tf.tidy(() => {
    const d = tf.add(tf.matMul(hidden, t2('cls.predictions.transform.dense.weight') as tf.Tensor2D, false, true), t2('cls.predictions.transform.dense.bias'));
    const g = tf.mul(tf.mul(d, 0.5), tf.add(1, tf.erf(tf.mul(d, Math.SQRT1_2))));
    const { mean, variance } = tf.moments(g, -1, true);
    const ln = tf.add(tf.mul(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-12))), t2('cls.predictions.transform.LayerNorm.weight')), t2('cls.predictions.transform.LayerNorm.bias'));
    return tf.add(tf.matMul(ln, t2('bert.embeddings.word_embeddings.weight') as tf.Tensor2D, false, true), t2('cls.predictions.bias')).dataSync();
  });
  let err = 0;
  for (let i = 0; i < ours.length; i++) err = Math.max(err, Math.abs(ours[i] - textbook[i]) / Math.max(1, Math.abs(textbook[i])));
  assert.ok(err < 1e-4, `MLM logits vs HF's formula on the saved tensors: ${err}`);
  head.dispose();
  hidden.dispose();

  // Continuing from the folder starts from its body and head: the same held-out texts and masks
  // give the saved loss back after a step at a negligible learning rate.
  const logs: string[] = [];
  const again = await pretrainModel(input(join(dir, 'pt2'), { model: out, params: { ...input(out).params, learning_rate: 1e-9, epochs: 1 } }), { onLog: (_l, text) => logs.push(text) });
  assert.ok(!logs.some((l) => /no masked-LM head/.test(l)), logs.join('\n'));
  assert.ok(Math.abs(again.bestValLoss - r.bestValLoss) < 1e-3, `continued ${again.bestValLoss} vs saved ${r.bestValLoss}`);
});

test('a fine-tuning run takes the pre-trained folder as its body (its MLM head ignored, a new classifier)', async (t) => {
  await initBackend();
  const dir = tempDir(t);
  const out = join(dir, 'pt');
  await pretrainModel(input(out, { params: { ...input(out).params, epochs: 1 } }));
  const logs: string[] = [];
  const r = await trainModel({ model: out, vocabSize: TOY_VOCAB, numLabels: 2, train: toySplit(128, 12, 1), val: toySplit(32, 12, 2), params: { ...baseParams, epochs: 1, max_seq_len: 12 } }, { onLog: (_l, text) => logs.push(text) });
  assert.ok(logs.some((l) => /no classifier for 2 labels; initialising a new head/.test(l)), logs.join('\n'));
  assert.ok(Number.isFinite(r.bestValLoss));
});

test('texts with nothing to predict are left out, a batch of such texts yields no gradients, and pretraining runs on the rest', async (t) => {
  await initBackend();
  const dir = tempDir(t);
  const texts = repeatedTexts(96, 16, 4);
  // A third of the texts are empty ([CLS] [SEP]) and a third only [UNK]s: nothing to mask.
  for (let r = 0; r < texts.count; r += 3) texts.lengths[r] = 2;
  const unk = Array.from({ length: 32 }, (_, k) => 3 * k + 1);
  for (const r of unk) texts.ids.fill(1, r * 16 + 1, r * 16 + texts.lengths[r] - 1);
  const config = presetConfig('tiny', TOY_VOCAB);
  const model = BertClassifier.fromSeed(config, 2, 1);
  const head = new MlmHead(config, seededMlmHead(config, 1));
  const strategy = mlmStrategy(model, head, texts, texts, 1, spec, new MicroBatcher(config, 1536), 8);
  const { loss, grads } = strategy.grads(unk.slice(0, 8), 0, 8);
  assert.equal(grads.size, 0);
  assert.equal(loss.dataSync()[0], 0);
  tf.dispose([loss]);
  model.dispose();
  head.dispose();
  const r = await pretrainModel(input(join(dir, 'pt'), { texts, params: { ...input(dir).params, batch_size: 8, epochs: 1, max_seq_len: 16 } }));
  assert.equal(r.train + r.val, 64, 'the empty texts are left out');
  assert.ok(Number.isFinite(r.bestValLoss));
  const none = { ...texts, lengths: new Uint16Array(texts.count).fill(2) };
  await assert.rejects(pretrainModel(input(join(dir, 'pt2'), { texts: none })), /pretraining needs at least 2 texts with a token to predict \(got 0\)/);
});

test('a stopped or crashed pre-training run continues from its checkpoint to the same model as an uninterrupted one; another run\'s checkpoint is refused', async (t) => {
  await initBackend();
  const dir = tempDir(t);
  const small = (saveTo: string, over: Partial<PretrainInput> = {}) => input(saveTo, { texts: repeatedTexts(320, 24, 2), params: { ...input(saveTo).params, epochs: 2 }, ...over });
  const whole = await pretrainModel(small(join(dir, 'whole')));
  const weights = (d: string) => readSafetensors(join(d, 'model.safetensors'));
  const sameModel = (d: string) => {
    const [a, b] = [weights(join(dir, 'whole')), weights(d)];
    let err = 0;
    for (const [n, x] of a) for (let i = 0; i < x.data.length; i++) err = Math.max(err, Math.abs(x.data[i] - b.get(n)!.data[i]));
    return err;
  };
  const stepsPerEpoch = Math.ceil(whole.train / 32);

  // Stopped (the Stop button, a cancel) in the middle of epoch 1: it saves where it is.
  const stopped = join(dir, 'stopped');
  let polls = 0;
  await assert.rejects(pretrainModel(small(stopped), { shouldStop: () => ++polls > 3 }), (e: Error) => isEngineError(e) && e.reason === 'cancelled' && /continues from here/.test(e.message));
  assert.ok(existsSync(join(stopped, PRETRAIN_CHECKPOINT, 'checkpoint.json')));
  const logs: string[] = [];
  const resumed = await pretrainModel(small(stopped), { onLog: (_l, text) => logs.push(text) });
  assert.ok(logs.some((l) => /continuing from .*pretrain-checkpoint: epoch 1, step 3/.test(l)), logs.join('\n'));
  assert.deepEqual(resumed.curve.map((c) => c.val_loss!.toFixed(5)), whole.curve.map((c) => c.val_loss!.toFixed(5)));
  assert.ok(sameModel(stopped) < 1e-5, `resumed vs uninterrupted weights: ${sameModel(stopped)}`);
  assert.ok(!existsSync(join(stopped, PRETRAIN_CHECKPOINT)), 'the checkpoint is removed once the run completes');

  // Crashed in epoch 2 (no chance to save): the last periodic checkpoint is where it goes on.
  const crashed = join(dir, 'crashed');
  polls = 0;
  await assert.rejects(pretrainModel(small(crashed, { checkpointEverySeconds: 0 }), { shouldStop: () => { if (++polls > stepsPerEpoch + 2) throw new Error('killed'); return false; } }), /killed/);
  const state = JSON.parse(readFileSync(join(crashed, PRETRAIN_CHECKPOINT, 'checkpoint.json'), 'utf8'));
  assert.deepEqual([state.epoch, state.within?.stepInEpoch], [1, 2]);
  const again = await pretrainModel(small(crashed));
  assert.deepEqual(again.curve.map((c) => c.val_loss!.toFixed(5)), whole.curve.map((c) => c.val_loss!.toFixed(5)));
  assert.ok(sameModel(crashed) < 1e-5, `resumed after a crash vs uninterrupted: ${sameModel(crashed)}`);

  // A checkpoint left by a run with other settings is not silently continued.
  polls = 0;
  await assert.rejects(pretrainModel(small(join(dir, 'other')), { shouldStop: () => ++polls > 3 }));
  await assert.rejects(pretrainModel(small(join(dir, 'other'), { params: { ...small('').params, learning_rate: 1e-3 } })), (e: Error) => /pretrain-checkpoint: a checkpoint of another pretraining run .*delete it to start over/.test(e.message));
});
