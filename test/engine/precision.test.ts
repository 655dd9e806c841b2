/**
 * Mixed precision (precision.ts, native/blas/onednn.c): in bf16 the matmuls take bf16-rounded
 * inputs and accumulate in fp32; small products stay fp32; `auto` picks bf16 only where the CPU
 * has bf16 instructions; a `bf16` that cannot run is one clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine';
import { matmulMacs, NATIVE_KERNELS, nativeMatmulInfo, setMatmulPrecision, type StridedGemm } from '../../src/engine/native-blas';
import { runKernel } from '../../src/engine/ops';
import { resolvePrecision } from '../../src/engine/precision';
import type { BackendInfo } from '../../src/engine/backend';
import { userError } from '../helpers';

/** x rounded to the nearest bf16 (ties to even), as a float. */
function bf16(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0];
  const r = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return new Float32Array(new Uint32Array([r >>> 0]).buffer)[0];
}

/** op(A)·op(B) in double from the given element readers. */
function reference(m: number, n: number, k: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
    out[i * n + j] = s;
  }
  return out;
}

/** Largest |got - want| relative to the sum of |terms| (the scale of fp32 accumulation error). */
function relError(got: ArrayLike<number>, want: Float64Array, scale: Float64Array): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / Math.max(scale[i], 1e-30));
  return e;
}

function values(n: number, salt: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.37 + salt) * (1 + (i % 7)));
}

async function bf16Ready(t: { skip(m: string): void }): Promise<boolean> {
  const b = await initBackend('wasm');
  if (!nativeMatmulInfo()?.bf16) {
    t.skip(`bf16 matmuls not available (${nativeMatmulInfo()?.bf16Why ?? b.skipped.join('; ')})`);
    return false;
  }
  return true;
}

test('bf16 matmuls multiply bf16-rounded inputs and accumulate in fp32: dense with bias, transposed, attention heads in place', async (t) => {
  if (!(await bf16Ready(t))) return;
  // Large enough to gain from bf16 (over 128 multiply-adds per rounded element); smaller ones stay fp32 (next test).
  const M = 384, K = 128, N = 384;
  const a = values(M * K, 1), w = values(K * N, 2), bias = values(N, 3);
  const run = (precision: 'fp32' | 'bf16', f: () => tf.Tensor) => {
    setMatmulPrecision(precision);
    try {
      return tf.tidy(() => f().dataSync() as Float32Array);
    } finally {
      setMatmulPrecision('fp32');
    }
  };
  const check = (name: string, got: Float32Array, fp32: Float32Array, want: Float64Array, scale: Float64Array) => {
    assert.ok(relError(got, want, scale) < 1e-5, `${name}: ${relError(got, want, scale)} from the product of bf16-rounded inputs`);
    assert.ok(relError(fp32, want, scale) > 1e-4, `${name}: fp32 should differ from the bf16 product (the bf16 path did not run?)`);
  };
  const aAt = (i: number, p: number) => a[i * K + p], wAt = (p: number, j: number) => w[p * N + j];
  const aBf = a.map(bf16), wBf = w.map(bf16);
  const want = reference(M, N, K, (i, p) => aBf[i * K + p], (p, j) => wBf[p * N + j]);
  const scale = reference(M, N, K, (i, p) => Math.abs(aAt(i, p)), (p, j) => Math.abs(wAt(p, j)));
  want.forEach((v, i) => (want[i] = v + bias[i % N]));
  const dense = () => tf.fused.matMul({ a: tf.tensor2d(a, [M, K]), b: tf.tensor2d(w, [K, N]), bias: tf.tensor1d(bias) });
  check('x·W + b', run('bf16', dense), run('fp32', dense), want, scale);
  // xᵀ·dy, the weight gradient: A stored [K, M] and transposed.
  const aT = tf.tidy(() => tf.transpose(tf.tensor2d(a, [M, K])).dataSync() as Float32Array);
  const grad = () => tf.matMul(tf.tensor2d(aT, [K, M]), tf.tensor2d(w, [K, N]), true, false);
  const wantT = reference(M, N, K, (i, p) => aBf[i * K + p], (p, j) => wBf[p * N + j]);
  check('xᵀ·dy', run('bf16', grad), run('fp32', grad), wantT, scale);
  // Attention scores scale·Q·Kᵀ per example and head, read in place from [B·S, H].
  const B = 1, S = 256, A = 2, D = 32, H = A * D;
  const q = values(B * S * H, 4), k = values(B * S * H, 5), alpha = 0.125;
  const qBf = q.map((x) => bf16(alpha * x)), kBf = k.map(bf16);
  const g: StridedGemm = { outer: B, inner: A, m: S, n: S, k: D, transA: false, transB: true, lda: H, ldb: H, ldc: S, sAo: S * H, sAi: D, sBo: S * H, sBi: D, sCo: A * S * S, sCi: S * S, alpha, outShape: [B, A, S, S] };
  const scores = () => runKernel(NATIVE_KERNELS.gemmStrided, { a: tf.tensor2d(q, [B * S, H]), b: tf.tensor2d(k, [B * S, H]) }, g as never)[0];
  const got = run('bf16', scores), fp32 = run('fp32', scores);
  for (let bb = 0; bb < B; bb++) for (let h = 0; h < A; h++) {
    const at = (x: Float32Array, row: number, p: number) => x[(bb * S + row) * H + h * D + p];
    const wantH = reference(S, S, D, (i, p) => at(qBf, i, p), (p, j) => at(kBf, j, p));
    const scaleH = reference(S, S, D, (i, p) => Math.abs(alpha * at(q, i, p)), (p, j) => Math.abs(at(k, j, p)));
    const off = (bb * A + h) * S * S;
    check(`scores b${bb} h${h}`, got.subarray(off, off + S * S), fp32.subarray(off, off + S * S), wantH, scaleH);
  }
});

test('in bf16, products too small to gain stay fp32 (column sums, a two-label head, a few rows through a large weight)', async (t) => {
  if (!(await bf16Ready(t))) return;
  const cases: Array<[number[], number[]]> = [[[1, 64], [64, 48]], [[32, 64], [64, 2]], [[72, 768], [768, 768]]];
  for (const [sa, sb] of cases) {
    const a = values(sa[0] * sa[1], 6), b = values(sb[0] * sb[1], 7);
    const prod = (precision: 'fp32' | 'bf16') => {
      setMatmulPrecision(precision);
      try {
        return tf.tidy(() => tf.matMul(tf.tensor2d(a, sa as [number, number]), tf.tensor2d(b, sb as [number, number])).dataSync() as Float32Array);
      } finally {
        setMatmulPrecision('fp32');
      }
    };
    assert.deepEqual(prod('bf16'), prod('fp32'), `[${sa}]·[${sb}]`);
  }
});

const backend = (bf16?: { native: boolean }, bf16Why = 'oneDNN not available (libdnnl.so.2: cannot open shared object file); Debian: apt install libdnnl2'): Pick<BackendInfo, 'name' | 'blas' | 'skipped'> => ({
  name: 'wasm',
  skipped: [],
  blas: { library: 'OpenBLAS', threads: 2, adaptive: true, ...(bf16 ? { bf16: { description: 'oneDNN 2.6.3 (brg:avx512_core_bf16)', ...bf16 } } : { bf16Why }) },
});

test('precision auto is bf16 only where the CPU has bf16 instructions and oneDNN loads; bf16 that cannot run names the setting', () => {
  assert.equal(resolvePrecision('auto', backend({ native: true })).precision, 'bf16');
  assert.equal(resolvePrecision('auto', backend({ native: false })).precision, 'fp32');
  assert.equal(resolvePrecision('auto', backend()).precision, 'fp32');
  assert.equal(resolvePrecision('fp32', backend({ native: true })).precision, 'fp32');
  assert.deepEqual(resolvePrecision('bf16', backend({ native: true })), { precision: 'bf16', note: undefined });
  assert.match(resolvePrecision('bf16', backend({ native: false })).note!, /no bf16 instructions .*emulates/);
  assert.match(userError(() => resolvePrecision('bf16', backend())), /^precision "bf16": oneDNN not available \(libdnnl\.so\.2.*; Debian: apt install libdnnl2; use "fp32" or "auto"$/);
  assert.match(userError(() => resolvePrecision('bf16', { name: 'tensorflow', skipped: [] })), /^precision "bf16": the tensorflow backend has no bf16 matmuls here; use "fp32" or "auto"$/);
});

test('bf16 training reaches the fp32 val loss within the noise between seeds (3 seeds each)', async (t) => {
  if (!(await bf16Ready(t))) return;
  const { trainModel } = await import('../../src/engine');
  const { toySplit, TOY_VOCAB, baseParams } = await import('./toy');
  const { mean, std } = await import('../../src/tuners/stats');
  // One label in seven flipped: the val loss has a floor well above zero, so a precision that
  // trained worse would show.
  const noisy = (count: number, seed: number) => {
    const s = toySplit(count, 32, seed);
    s.labels.forEach((l, i) => (s.labels[i] = i % 7 === 3 ? 1 - l : l));
    return s;
  };
  const train = noisy(384, 1), val = noisy(160, 2);
  const losses: Record<string, number[]> = { fp32: [], bf16: [] };
  const before = matmulMacs();
  for (const precision of ['fp32', 'bf16'] as const) {
    for (const seed of [1, 2, 3]) {
      // mini: its products are large enough for bf16 at these lengths (tiny's mostly stay fp32).
      const r = await trainModel({ model: 'mini', vocabSize: TOY_VOCAB, numLabels: 2, train, val, precision, params: { ...baseParams, learning_rate: 5e-4, epochs: 3, max_seq_len: 32, seed } });
      assert.equal(r.precision, precision);
      losses[precision].push(r.bestValLoss);
    }
  }
  const [f, b] = [losses.fp32, losses.bf16];
  t.diagnostic(`best val loss fp32 ${f.map((x) => x.toFixed(6))}, bf16 ${b.map((x) => x.toFixed(6))}`);
  assert.ok(mean(f) < 0.6, `fp32 did not learn the task: ${f}`);
  // The bf16 runs did about half the multiply-adds (the fp32 runs did the other half in fp32);
  // the products that stayed fp32 even then are the small ones.
  const after = matmulMacs();
  const bf16Share = (after.bf16 - before.bf16) / (after.bf16 - before.bf16 + after.fp32 - before.fp32);
  t.diagnostic(`share of multiply-adds in bf16: ${bf16Share.toFixed(3)}`);
  assert.ok(bf16Share > 0.35, `only ${bf16Share} of the multiply-adds ran in bf16`);
  // Within noise: the gap between the means is inside two standard errors of their difference
  // (with a floor of 0.01 for seeds that happen to agree closely).
  const noise = 2 * Math.sqrt((std(f) ** 2 + std(b) ** 2) / 3);
  assert.ok(Math.abs(mean(b) - mean(f)) <= Math.max(noise, 0.01), `bf16 mean ${mean(b)} vs fp32 ${mean(f)}, noise ${noise}`);
});
