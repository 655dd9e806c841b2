import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, trainModel, clearFeatureCache } from '../../src/engine';
import { BertClassifier } from '../../src/engine/model';
import { presetConfig } from '../../src/engine/config';
import { readSafetensors } from '../../src/engine/safetensors';
import { tempDir } from '../helpers';
import { toySplit, TOY_VOCAB, baseParams } from './toy';

const train = toySplit(256, 16, 1);
const val = toySplit(64, 16, 2);
const input = (over: Record<string, unknown> = {}) => ({ model: 'tiny', vocabSize: TOY_VOCAB, numLabels: 2, train, val, params: { ...baseParams, ...over } });

test('freeze_body trains only the head, on cached features, far cheaper than full fine-tuning', async (t) => {
  await initBackend();
  const ck = tempDir(t);
  const out = tempDir(t);
  clearFeatureCache();
  const tensorsBefore = tf.memory().numTensors;
  let t0 = performance.now();
  const full = await trainModel(input({ epochs: 3 }));
  const fullS = (performance.now() - t0) / 1000;
  // First frozen trial computes the features (one inference pass) and caches them.
  const first = await trainModel({ ...input({ epochs: 3, freeze_body: true, learning_rate: 1e-2 }), checkpointDir: ck, saveBestTo: out });
  assert.ok(readdirSync(ck).some((f) => f.startsWith('features-')), 'feature cache on disk');
  // Later trials on the same (model, split, max_len) only train the head.
  t0 = performance.now();
  const again = await trainModel(input({ epochs: 3, freeze_body: true, learning_rate: 1e-2 }));
  const frozenS = (performance.now() - t0) / 1000;
  assert.equal(again.bestValLoss, first.bestValLoss);
  const ratio = fullS / frozenS;
  assert.ok(ratio >= 10, `frozen trial only ${ratio.toFixed(1)}× cheaper (${fullS.toFixed(2)} s vs ${frozenS.toFixed(3)} s)`);
  assert.equal(tf.memory().numTensors, tensorsBefore);
  t.diagnostic(`full ${fullS.toFixed(2)} s, frozen (cached) ${frozenS.toFixed(3)} s: ${ratio.toFixed(0)}×`);
  // From disk after the memory cache is gone: same features, same result.
  clearFeatureCache();
  const fromDisk = await trainModel({ ...input({ epochs: 3, freeze_body: true, learning_rate: 1e-2 }), checkpointDir: ck });
  assert.equal(fromDisk.bestValLoss, first.bestValLoss);
  // The body in the saved model is the untouched seeded init; the head moved.
  const initModel = BertClassifier.fromSeed(presetConfig('tiny', TOY_VOCAB), 2, baseParams.seed);
  const init = initModel.snapshot();
  initModel.dispose();
  const saved = readSafetensors(join(out, 'model.safetensors'));
  assert.deepEqual(saved.get('bert.embeddings.word_embeddings.weight')!.data, init.get('bert.embeddings.word_embeddings.weight'));
  assert.deepEqual(saved.get('bert.encoder.layer.1.output.LayerNorm.weight')!.data, init.get('bert.encoder.layer.1.output.LayerNorm.weight'));
  assert.notDeepEqual(saved.get('classifier.bias')!.data, init.get('classifier.bias'));
  assert.ok(full.bestValAccuracy > 0.9);
});
