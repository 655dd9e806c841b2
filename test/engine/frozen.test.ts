import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, trainModel, FeatureCache } from '../../src/engine';
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
  const cache = new FeatureCache(ck);
  const tensorsBefore = tf.memory().numTensors;
  let t0 = performance.now();
  const full = await trainModel(input({ epochs: 3 }));
  const fullS = (performance.now() - t0) / 1000;
  // First frozen trial computes the features (one inference pass) and caches them.
  const first = await trainModel({ ...input({ epochs: 3, freeze_body: true, learning_rate: 1e-2 }), checkpointDir: ck, featureCache: cache, saveBestTo: out });
  assert.ok(readdirSync(ck).some((f) => f.startsWith('features-')), 'feature cache on disk');
  // Later trials on the same (model, split, max_len) only train the head: with every feature
  // cached, only the head is even built, with the same initial values as in a full build.
  const logs: string[] = [];
  t0 = performance.now();
  const again = await trainModel({ ...input({ epochs: 3, freeze_body: true, learning_rate: 1e-2 }), featureCache: cache }, { onLog: (_l, text) => logs.push(text) });
  const frozenS = (performance.now() - t0) / 1000;
  assert.equal(again.bestValLoss, first.bestValLoss);
  assert.ok(logs.some((l) => /building the head only/.test(l)), logs.join('\n'));
  assert.ok(!logs.some((l) => /feature cache hit/.test(l)), `read from the cache's memory, not its files: ${logs.join('\n')}`);
  const ratio = fullS / frozenS;
  assert.ok(ratio >= 10, `frozen trial only ${ratio.toFixed(1)}× cheaper (${fullS.toFixed(2)} s vs ${frozenS.toFixed(3)} s)`);
  assert.equal(tf.memory().numTensors, tensorsBefore);
  t.diagnostic(`full ${fullS.toFixed(2)} s, frozen (cached) ${frozenS.toFixed(3)} s: ${ratio.toFixed(0)}×`);
  // From disk after the memory cache is gone: same features, same result; saving a head-only
  // model regenerates its seeded body, so it writes the very file the full build wrote.
  const out2 = tempDir(t);
  const fromDisk = await trainModel({ ...input({ epochs: 3, freeze_body: true, learning_rate: 1e-2 }), featureCache: new FeatureCache(ck), saveBestTo: out2 });
  assert.equal(fromDisk.bestValLoss, first.bestValLoss);
  assert.deepEqual(readFileSync(join(out2, 'model.safetensors')), readFileSync(join(out, 'model.safetensors')));
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

test('a head-only model gets the head a full seeded build gets, and refuses to encode', async () => {
  await initBackend();
  const config = presetConfig('tiny', TOY_VOCAB);
  const full = BertClassifier.fromSeed(config, 3, 42);
  const head = BertClassifier.fromSeed(config, 3, 42, true);
  try {
    assert.deepEqual([...head.vars.keys()].sort(), ['classifier.bias', 'classifier.weight']);
    assert.deepEqual(head.snapshot().get('classifier.weight'), full.snapshot().get('classifier.weight'));
    const ids = tf.tensor2d([[2, 5, 3]], [1, 3], 'int32');
    assert.throws(() => head.pooled({ ids, lengths: [3] }), /only its classification head/);
    ids.dispose();
  } finally {
    full.dispose();
    head.dispose();
  }
});
