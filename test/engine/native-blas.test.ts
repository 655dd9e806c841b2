/**
 * The optional native BLAS matmul (native/blas + src/engine/native-blas.ts): where it is built and
 * a BLAS library is present, every product shape the model uses must equal the wasm backend's own
 * kernel (within float32 rounding of a different summation order), and whatever it does not
 * handle must still work through the wasm kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine';
import { describeBackend } from '../../src/engine/backend';
import { nativeMatmulInfo, setNativeMatmulEnabled } from '../../src/engine/native-blas';

function both(f: () => tf.Tensor, ref: () => tf.Tensor): { native: Float32Array; wasm: Float32Array; shape: number[] } {
  setNativeMatmulEnabled(true);
  const n = tf.tidy(f);
  setNativeMatmulEnabled(false);
  const w = tf.tidy(ref);
  setNativeMatmulEnabled(true);
  const out = { native: n.dataSync() as Float32Array, wasm: w.dataSync() as Float32Array, shape: n.shape };
  assert.deepEqual(n.shape, w.shape);
  tf.dispose([n, w]);
  return out;
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return err;
}

test('native BLAS matmul equals the wasm kernels for every transpose, batch, broadcast and bias case', async (t) => {
  const b = await initBackend('wasm');
  if (!nativeMatmulInfo()) {
    t.skip(`native BLAS not in use (${b.skipped.filter((s) => s.startsWith('native BLAS')).join('; ') || 'unknown'}): npm run build builds native/blas; Debian needs libopenblas0-pthread`);
    return;
  }
  assert.match(describeBackend(b), /^wasm \(1 thread\), matmuls on .+, (up to )?\d+ threads?(; bf16 on .+)?$/);
  let seed = 1;
  const r = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', seed++);
  // Fused cases are compared with matMul + add on wasm: the wasm backend's own _FusedMatMul gives
  // wrong sums with transposeB and a bias (tfjs 4.22; e.g. [[3,4]]·[[0,1]]ᵀ + 20 → 34, not 24).
  const fusedRef = (a: number[], b: number[], transposeB: boolean) => () => tf.add(tf.matMul(r(a), r(b), false, transposeB), r([b[transposeB ? 0 : 1]]));
  const cases: Array<[string, () => tf.Tensor, (() => tf.Tensor)?]> = [
    ['2D', () => tf.matMul(r([7, 5]), r([5, 9]))],
    ['2D aᵀ', () => tf.matMul(r([5, 7]), r([5, 9]), true, false)],
    ['2D bᵀ', () => tf.matMul(r([7, 5]), r([9, 5]), false, true)],
    ['2D aᵀbᵀ', () => tf.matMul(r([5, 7]), r([9, 5]), true, true)],
    ['3D batched (attention)', () => tf.matMul(r([6, 8, 4]), r([6, 4, 8]))],
    ['3D batched bᵀ', () => tf.matMul(r([6, 8, 4]), r([6, 8, 4]), false, true)],
    ['3D batched aᵀ', () => tf.matMul(r([6, 4, 8]), r([6, 4, 3]), true, false)],
    ['4D batched', () => tf.matMul(r([2, 3, 5, 4]), r([2, 3, 4, 6]))],
    ['broadcast a single matrix b', () => tf.matMul(r([3, 5, 4]), r([4, 6]) as never)],
    ['broadcast a single matrix a', () => tf.matMul(r([1, 5, 4]), r([3, 4, 6]))],
    ['fused bias', () => tf.fused.matMul({ a: r([7, 5]) as tf.Tensor2D, b: r([5, 9]) as tf.Tensor2D, bias: r([9]) }), fusedRef([7, 5], [5, 9], false)],
    ['fused bias, bᵀ', () => tf.fused.matMul({ a: r([7, 5]) as tf.Tensor2D, b: r([9, 5]) as tf.Tensor2D, bias: r([9]), transposeB: true }), fusedRef([7, 5], [9, 5], true)],
    ['fused relu (wasm kernel)', () => tf.fused.matMul({ a: r([7, 5]) as tf.Tensor2D, b: r([5, 9]) as tf.Tensor2D, bias: r([9]), activation: 'relu' })],
    ['large dense', () => tf.matMul(r([256, 128]), r([128, 512]))],
  ];
  for (const [name, f, ref] of cases) {
    const startSeed = seed;
    // The same operands for both paths: each path starts from the same seed.
    const out = both(
      () => ((seed = startSeed), f()),
      () => ((seed = startSeed), (ref ?? f)()),
    );
    const err = maxRelError(out.native, out.wasm);
    assert.ok(err < 1e-4, `${name}: native vs wasm max relative error ${err}`);
    assert.ok(out.native.some((v) => v !== 0), `${name}: all zeros`);
  }
});

test('native BLAS matmul keeps memory flat and survives wasm heap growth', async (t) => {
  await initBackend('wasm');
  if (!nativeMatmulInfo()) {
    t.skip('native BLAS not in use');
    return;
  }
  const a = tf.randomNormal([64, 64], 0, 1, 'float32', 5);
  const before = tf.memory().numTensors;
  // Allocate far more than the heap's starting size between products, so the wasm memory grows
  // (and its ArrayBuffer is replaced) while operands stay valid.
  const big: tf.Tensor[] = [];
  for (let i = 0; i < 6; i++) {
    big.push(tf.zeros([8 * 1024 * 1024]));
    const p = tf.tidy(() => tf.sum(tf.matMul(a, a)).dataSync()[0]);
    const q = tf.tidy(() => {
      setNativeMatmulEnabled(false);
      const v = tf.sum(tf.matMul(a, a)).dataSync()[0];
      setNativeMatmulEnabled(true);
      return v;
    });
    assert.ok(Math.abs(p - q) <= 1e-3 * Math.max(1, Math.abs(q)), `round ${i}: ${p} vs ${q}`);
  }
  tf.dispose(big);
  assert.equal(tf.memory().numTensors, before);
  a.dispose();
});

test('native fused kernels (GELU, LayerNorm with and without a residual, embedding rows with added position rows, dropout masks) equal the wasm formulation, gradients included', async (t) => {
  await initBackend('wasm');
  if (!nativeMatmulInfo()) {
    t.skip('native BLAS not in use');
    return;
  }
  const { gelu, layerNorm, embed, maskedSoftmax, DropoutRng } = await import('../../src/engine/ops');
  const scores = tf.randomNormal([2, 3, 5, 5], 0, 3, 'float32', 12);
  const maskBias = tf.tensor4d([0, 0, 0, -10000, -10000, 0, 0, 0, 0, 0], [2, 1, 1, 5]);
  const sw = tf.randomNormal([2, 3, 5, 5], 0, 1, 'float32', 13);
  const x = tf.randomNormal([64, 48], 0, 2, 'float32', 7);
  const gamma = tf.randomNormal([48], 1, 0.3, 'float32', 8);
  const beta = tf.randomNormal([48], 0, 0.3, 'float32', 9);
  const w = tf.randomNormal([64, 48], 0, 1, 'float32', 10);
  const table = tf.randomNormal([30, 48], 0, 1, 'float32', 11);
  const ids = tf.tensor1d([3, 0, 29, 3, 7, 3, 12, 28], 'int32'); // repeats: gradients must sum them
  const rowsAdded = tf.randomNormal([4, 48], 0, 1, 'float32', 14); // two sequences of 4
  const skip = tf.randomNormal([64, 48], 0, 1, 'float32', 15); // a residual branch
  const paths: Record<string, Float32Array[]> = {};
  for (const native of [true, false]) {
    setNativeMatmulEnabled(native);
    paths[String(native)] = tf.tidy(() => {
      // A scalar of every output, weighted so that each element's gradient differs.
      const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, tb: tf.Tensor, ra: tf.Tensor, sk: tf.Tensor) =>
        tf.addN([
          tf.sum(tf.mul(tf.square(layerNorm(xi, g, b, 1e-12, sk)), w)),
          tf.sum(tf.mul(gelu(layerNorm(xi, g, b, 1e-12)), w)),
          tf.sum(tf.mul(embed(tb as tf.Tensor2D, ids), tf.slice(w, [0, 0], [8, 48]))),
          tf.sum(tf.mul(embed(tb as tf.Tensor2D, ids, ra as tf.Tensor2D), tf.slice(w, [8, 0], [8, 48]))),
        ]);
      const value = f(x, gamma, beta, table, rowsAdded, skip);
      const [dx, dg, db, dt, dra, dskip] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, gamma, beta, table, rowsAdded, skip]);
      const mask = DropoutRng.forStep(3, 5, [0, 1, 2, 3]).mask([4, 6, 50], 0.3);
      const sm = (z: tf.Tensor) => tf.sum(tf.mul(maskedSoftmax(z, maskBias), sw));
      const probs = maskedSoftmax(scores, maskBias);
      const [dscores] = tf.grads(sm)([scores]);
      const out = [value, dx, dg, db, dt, mask, probs, dscores, dra, dskip].map((v) => v.dataSync() as Float32Array);
      return out as never;
    }) as unknown as Float32Array[];
  }
  setNativeMatmulEnabled(true);
  const names = ['value', 'dx', 'dgamma', 'dbeta', 'dtable', 'dropout mask', 'masked softmax', 'masked softmax gradient', 'added rows gradient', 'residual gradient'];
  names.forEach((name, i) => {
    const err = maxRelError(paths.true[i], paths.false[i]);
    assert.ok(err < 2e-4, `${name}: native vs wasm max relative error ${err}`);
  });
  // Dropout masks are not approximations: the same generator, bit for bit.
  assert.deepEqual(Array.from(paths.true[5]), Array.from(paths.false[5]));
  const kept = paths.true[5].filter((v) => v > 0).length / paths.true[5].length;
  assert.ok(kept > 0.6 && kept < 0.8, `kept ${kept} at rate 0.3`);
  // Padding gets no attention: masked columns are 0 in every row of the first example.
  for (let r = 0; r < 15; r++) assert.ok(paths.true[6][r * 5 + 3] < 1e-6 && paths.true[6][r * 5 + 4] < 1e-6);
  tf.dispose([x, gamma, beta, w, table, ids, scores, maskBias, sw, rowsAdded, skip]);
});

test('a whole BERT gives the same logits and gradients with native kernels as with wasm kernels', async (t) => {
  await initBackend('wasm');
  if (!nativeMatmulInfo()) {
    t.skip('native BLAS not in use');
    return;
  }
  const { BertClassifier } = await import('../../src/engine/model');
  const { DropoutRng } = await import('../../src/engine/ops');
  const base = { vocab_size: 40, num_hidden_layers: 2, max_position_embeddings: 24, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, layer_norm_eps: 1e-12, hidden_act: 'gelu' as const };
  // Odd sizes (S = 7, 3 heads of 4), and BERT's real head size (2 heads of 64, S = 20), with
  // padding and dropout on: every native path at once.
  const cases = [
    { cfg: { ...base, hidden_size: 12, num_attention_heads: 3, intermediate_size: 20 }, rows: [[2, 5, 9, 9, 3, 0, 0], [2, 11, 12, 13, 14, 15, 3]], lengths: [5, 7] },
    { cfg: { ...base, hidden_size: 128, num_attention_heads: 2, intermediate_size: 64 }, rows: [Array.from({ length: 20 }, (_, i) => (i < 14 ? 5 + i : 0)), Array.from({ length: 20 }, (_, i) => 6 + i)], lengths: [14, 20] },
  ];
  for (const { cfg, rows, lengths } of cases) {
    const model = BertClassifier.fromSeed(cfg, 2, 4);
    const ids = tf.tensor2d(rows, undefined, 'int32');
    const batch = { ids, lengths };
    const labels = new Int32Array([0, 1]);
    const results: Record<string, Float32Array[]> = {};
    for (const native of [true, false]) {
      setNativeMatmulEnabled(native);
      results[String(native)] = tf.tidy(() => {
        const logits = model.logits(batch, 0).dataSync() as Float32Array;
        const { value, grads } = tf.variableGrads(() => model.loss(batch, labels, 0.2, 2, DropoutRng.forStep(1, 0, [0, 1])));
        return [logits, value.dataSync() as Float32Array, ...Object.keys(grads).sort().map((k) => grads[k].dataSync() as Float32Array)] as never;
      }) as unknown as Float32Array[];
    }
    setNativeMatmulEnabled(true);
    // The forward-only kernels used outside a gradient tape (evaluation, prediction, frozen
    // features) give the logits of the taped forward pass.
    let taped: Float32Array = new Float32Array();
    tf.tidy(() => {
      tf.variableGrads(() => {
        const l = model.logits(batch, 0);
        taped = l.dataSync() as Float32Array;
        return tf.sum(l) as tf.Scalar;
      });
    });
    assert.ok(maxRelError(results.true[0], taped) < 1e-6, `H=${cfg.hidden_size}: inference vs taped logits ${maxRelError(results.true[0], taped)}`);
    assert.equal(results.true.length, results.false.length);
    results.true.forEach((v, i) => assert.ok(maxRelError(v, results.false[i]) < 1e-3, `H=${cfg.hidden_size} output ${i}: max relative error ${maxRelError(v, results.false[i])}`));
    model.dispose();
    ids.dispose();
  }
});

test('native AdamW and gradient norm equal the op-by-op formulation (clipping, weight decay, bias correction; in place, a large tensor split over threads)', async (t) => {
  await initBackend('wasm');
  if (!nativeMatmulInfo()) {
    t.skip('native BLAS not in use');
    return;
  }
  const { AdamW, globalNorm, clipScale } = await import('../../src/engine/optimizer');
  // One decayed matrix, and a bias and a LayerNorm weight, which take no weight decay.
  // The large one (over a million values) is split over the addon's threads.
  const shapes: Record<string, number[]> = { 'layer.0.dense.weight': [37, 19], 'layer.0.dense.bias': [19], 'layer.0.LayerNorm.weight': [19], 'embeddings.weight': [1031, 1033] };
  const results: Record<string, { params: Float32Array[]; m: Float32Array[]; v: Float32Array[]; norms: number[] }> = {};
  const exactNorms: number[] = [];
  for (const native of [true, false]) {
    setNativeMatmulEnabled(native);
    // Each variable shares its memory with its initial tensor, kept alive: the in-place update
    // must leave that tensor as it was.
    const initial = Object.values(shapes).map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 20 + i));
    const before = initial.map((x) => (x.dataSync() as Float32Array).slice());
    const params = new Map(Object.keys(shapes).map((n, i) => [n, tf.variable(initial[i])]));
    const opt = new AdamW(params, { weightDecay: 0.1 });
    const norms: number[] = [];
    exactNorms.length = 0;
    for (let step = 0; step < 4; step++) {
      // Large gradients, so that clipping to norm 1 scales them down.
      const grads = new Map(Object.entries(shapes).map(([n, s], i) => [n, tf.randomNormal(s, 0, 3, 'float32', 1 + 100 * step + i)]));
      const norm = globalNorm(grads.values());
      norms.push(norm.dataSync()[0]);
      // Both paths clip by the exact norm, so the updates compare on their own.
      const exact = Math.sqrt([...grads.values()].reduce((a, g) => a + (g.dataSync() as Float32Array).reduce((b, x) => b + x * x, 0), 0));
      exactNorms.push(exact);
      opt.apply(grads, 1e-2 * (step + 1), clipScale(exact, 1));
      tf.dispose([norm, ...grads.values()]);
    }
    const read = (m: Map<string, tf.Variable>) => [...m.values()].map((x) => x.dataSync() as Float32Array);
    results[String(native)] = { params: read(params), m: read(opt.m), v: read(opt.v), norms };
    initial.forEach((x, i) => assert.deepEqual(x.dataSync(), before[i], `native ${native}: the tensor sharing ${Object.keys(shapes)[i]}'s memory changed`));
    opt.dispose();
    tf.dispose([...params.values(), ...initial]);
  }
  setNativeMatmulEnabled(true);
  const [n, w] = [results.true, results.false];
  // The native norm sums blocks in double: exact to float precision. tf's float32 sum over a
  // million values drifts (about 3e-4 here), so it is held to a looser bound.
  n.norms.forEach((x, i) => assert.ok(Math.abs(x - exactNorms[i]) / exactNorms[i] < 1e-6, `native norm at step ${i}: ${x} vs ${exactNorms[i]} in double`));
  w.norms.forEach((x, i) => assert.ok(Math.abs(x - exactNorms[i]) / exactNorms[i] < 1e-3, `op-by-op norm at step ${i}: ${x} vs ${exactNorms[i]} in double`));
  assert.ok(n.norms[0] > 10, 'gradients large enough to be clipped');
  for (const k of ['params', 'm', 'v'] as const) n[k].forEach((x, i) => assert.ok(maxRelError(x, w[k][i]) < 1e-5, `${k} ${i}: max relative error ${maxRelError(x, w[k][i])}`));
});
