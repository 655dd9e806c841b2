import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine';
import { BertClassifier, paramSpecs } from '../../src/engine/model';
import { Rng } from '../../src/core/rng';
import { batchedMatmul, simdAvailable } from '../../src/engine/simd-matmul';
import { mm } from '../../src/engine/ops';
import { nativeMatmulInfo, setNativeMatmulEnabled } from '../../src/engine/native-blas';
import type { BertConfig } from '../../src/engine/types';

const cfg: BertConfig = { vocab_size: 20, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 10, type_vocab_size: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, layer_norm_eps: 1e-12, hidden_act: 'gelu' };

/** Groups of parameters checked separately, so an error in one op cannot hide behind another. */
const GROUPS = ['word_embeddings', 'position_embeddings', 'embeddings.LayerNorm', 'self.query', 'self.key', 'self.value', 'attention.output.dense', 'intermediate.dense', 'output.dense', 'output.LayerNorm', 'pooler', 'classifier'];

test('hand-written gradients match central differences on a tiny BERT, gelu and gelu_new (wasm kernels, and native BLAS when built)', async (t) => {
  await initBackend();
  const paths = nativeMatmulInfo() ? [true, false] : [false];
  if (!nativeMatmulInfo()) t.diagnostic('native BLAS matmul not in use here: checked the wasm kernels only');
  try {
    for (const native of paths) {
      setNativeMatmulEnabled(native);
      for (const hiddenAct of ['gelu', 'gelu_new']) checkGradients({ ...cfg, hidden_act: hiddenAct }, `${native ? 'native BLAS' : 'wasm kernels'}, ${hiddenAct}`);
    }
  } finally {
    setNativeMatmulEnabled(true);
  }
});

function checkGradients(cfg: BertConfig, path: string): void {
  // Larger-than-usual weights so every gradient is well above float32 noise.
  const rng = new Rng(3);
  const values = new Map<string, Float32Array>();
  for (const s of paramSpecs(cfg, 3)) {
    const v = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < v.length; i++) v[i] = (s.init === 'ones' ? 1 : 0) + rng.normal() * 0.4;
    values.set(s.name, v);
  }
  const model = new BertClassifier(cfg, 3, values);
  // Row 0 repeats token 5: the embedding gradient must sum duplicates. Rows have padding.
  // Length 8 (a multiple of 4) sends attention through the SIMD batched-matmul kernel.
  const ids = tf.tensor2d([[2, 5, 5, 7, 3, 0, 0, 0], [2, 9, 3, 0, 0, 0, 0, 0], [2, 11, 12, 13, 14, 15, 16, 3]], undefined, 'int32');
  const labels = new Int32Array([0, 2, 1]);
  const f = () => model.loss({ ids, lengths: [5, 3, 8] }, labels, 0, 3);
  const { value, grads } = tf.variableGrads(f);
  value.dispose();
  for (const group of GROUPS) {
    const names = [...model.vars.keys()].filter((n) => n.includes(group));
    assert.ok(names.length > 0, group);
    const dirs = new Map(names.map((n, i) => [n, tf.randomNormal(model.vars.get(n)!.shape, 0, 1, 'float32', 11 + i)]));
    let analytic = 0;
    for (const n of names) analytic += tf.tidy(() => tf.sum(tf.mul(grads[model.vars.get(n)!.name], dirs.get(n)!)).dataSync()[0]);
    const eps = 1e-3;
    const shifted = (s: number) => {
      for (const n of names) tf.tidy(() => model.vars.get(n)!.assign(tf.add(model.vars.get(n)!, tf.mul(dirs.get(n)!, s))));
      const l = tf.tidy(() => f().dataSync()[0]);
      for (const n of names) tf.tidy(() => model.vars.get(n)!.assign(tf.sub(model.vars.get(n)!, tf.mul(dirs.get(n)!, s))));
      return l;
    };
    const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
    const rel = Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(numeric));
    assert.ok(rel < 0.02, `${group} with ${path}: analytic ${analytic} vs numeric ${numeric} (rel ${rel.toFixed(4)})`);
    for (const d of dirs.values()) d.dispose();
  }
  for (const g of Object.values(grads)) g.dispose();
  ids.dispose();
  model.dispose();
}

test('SIMD batched matmul equals tf.matMul, and is used for attention shapes without native BLAS', async (t) => {
  await initBackend();
  setNativeMatmulEnabled(false); // the SIMD kernel is the path when no native BLAS is in use
  t.after(() => setNativeMatmulEnabled(true));
  assert.ok(simdAvailable(), 'WebAssembly SIMD is available in Node 20');
  const a = tf.randomNormal([6, 8, 5], 0, 1, 'float32', 1);
  const b = tf.randomNormal([6, 5, 12], 0, 1, 'float32', 2);
  const want = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D).dataSync();
  const got = batchedMatmul(a.dataSync() as Float32Array, b.dataSync() as Float32Array, 6, 8, 5, 12);
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(want[i] - got[i]));
  assert.ok(err < 1e-5, `max error ${err}`);
  const viaOp = mm(a, b).dataSync();
  assert.deepEqual(Array.from(viaOp), Array.from(got));
  tf.dispose([a, b]);
});

test('backend: wasm is chosen here, native runtimes are reported as skipped, overrides work', async () => {
  const auto = await initBackend('auto');
  assert.ok(['tensorflow', 'tensorflow-gpu', 'wasm'].includes(auto.name), auto.name);
  if (auto.name === 'wasm') {
    assert.equal(auto.threads, 1);
    assert.ok(auto.skipped.some((s) => s.includes('@tensorflow/tfjs-node')), auto.skipped.join('; '));
  }
  const cpu = await initBackend('cpu');
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  await assert.rejects(initBackend('quantum'), /backend "quantum": unknown/);
  const back = await initBackend('wasm');
  assert.equal(back.name, 'wasm');
});
