/**
 * Differentiable building blocks with hand-written gradients. The wasm backend lacks
 * UnsortedSegmentSum (the built-in gather gradient) and runs matMul with transpose flags 12–20×
 * slower than with an explicit transpose first (../shared/notes/runtime-facts.md), so every
 * matmul and the embedding lookup here carry their own gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { mixSeed, mulberry32Output } from '../core/rng';
import { batchedMatmul, simdAvailable } from './simd-matmul';
import { NATIVE_KERNELS, nativeKernelsReady, nativeMatmulInfo, type StridedGemm } from './native-blas';

/** Runs a kernel by name (the native ones have no op wrapper) and returns its outputs as a list. */
export const runKernel = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}): tf.Tensor[] => {
  const r = tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor | tf.Tensor[];
  return Array.isArray(r) ? r : [r];
};

/**
 * Whether a gradient tape is recording (inside tf.grad / variableGrads, outside any kernel). When
 * it is not (evaluation, prediction, the frozen body's features), the ops below run their forward
 * kernels alone: no customGrad bookkeeping and nothing kept for a backward pass.
 */
export function recording(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/** Swaps the last two axes with an explicit Transpose kernel (never a matMul flag). */
export function swapLast(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return tf.transpose(t, perm);
}

/**
 * Batched product of rank-3 tensors. On wasm (and cpu) the backend's batched matmul is a scalar
 * loop, so shapes the SIMD kernel takes (rows and columns multiples of 4) go there instead.
 */
function bmm(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank === 3 && b.rank === 3 && simdBackend() && !nativeMatmulInfo()) {
    const [G, M, K] = a.shape as [number, number, number];
    const N = b.shape[2] as number;
    if (M % 4 === 0 && N % 4 === 0 && b.shape[0] === G && b.shape[1] === K) {
      return tf.tensor3d(batchedMatmul(a.dataSync() as Float32Array, b.dataSync() as Float32Array, G, M, K, N), [G, M, N]);
    }
  }
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
}

function simdBackend(): boolean {
  const name = tf.getBackend();
  return (name === 'wasm' || name === 'cpu') && simdAvailable() && process.env.TRIALBOOK_SIMD_MATMUL !== '0';
}

/**
 * op(a)·op(b) with op a transpose of the last two axes when asked. The native BLAS takes the
 * transpose flags at full speed; the wasm kernels do not, so there the operand is transposed
 * explicitly first.
 */
export function matMulT(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): tf.Tensor {
  if (nativeMatmulInfo()) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transA, transB);
  return bmm(transA ? swapLast(a) : a, transB ? swapLast(b) : b);
}

/** a·b for rank-2 or batched rank-3 operands, gradients without matMul transpose flags on wasm. */
export const mm = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: bmm(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [matMulT(dy, sb, false, true), matMulT(sa, dy, true, false)];
    },
  };
}) as never) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Sum over rows of a 2D tensor as ones[1,N]·t: the wasm backend reduces only along the last
 * axis (a row-axis Sum transposes first and is slow), while this is one fast matmul.
 */
export function colSum(t: tf.Tensor): tf.Tensor1D {
  const cols = t.shape[t.rank - 1] as number;
  const t2 = t.rank === 2 ? t : tf.reshape(t, [-1, cols]);
  return tf.reshape(tf.matMul(tf.ones([1, t2.shape[0] as number]) as tf.Tensor2D, t2 as tf.Tensor2D), [cols]);
}

/** x[N,in]·W[in,out] + bias, fused forward, explicit-transpose backward. */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return recording() ? denseWithGrad(x, w, b) : (tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D);
}

const denseWithGrad = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved;
      return [
        matMulT(dy, sw, false, true),
        matMulT(sx, dy, true, false),
        colSum(dy),
      ];
    },
  };
}) as never) as unknown as (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/**
 * Rows of `table` picked by `ids` (int32, any shape → [n, H]); gradient by scatterND, which sums
 * duplicates. With `add` [R, H], row i also gets add[i mod R] (BERT's position + segment rows for
 * sequences of length R): one native pass instead of a gather and a broadcast add, whose wasm
 * kernel walks the broadcast element by element.
 */
export function embed(table: tf.Tensor2D, ids: tf.Tensor1D, add?: tf.Tensor2D): tf.Tensor2D {
  if (!recording() && nativeKernelsReady()) return runKernel(NATIVE_KERNELS.gatherRows, add ? { table, ids, add } : { table, ids })[0] as tf.Tensor2D;
  const tableGrad = (dy: tf.Tensor) => tf.scatterND(tf.reshape(ids, [-1, 1]), dy, table.shape);
  if (!add) {
    const f = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
      void save;
      return {
        value: nativeKernelsReady() ? runKernel(NATIVE_KERNELS.gatherRows, { table: t, ids })[0] : tf.gather(t, ids),
        gradFunc: (dy: tf.Tensor) => [tableGrad(dy)],
      };
    }) as never) as unknown as (t: tf.Tensor) => tf.Tensor2D;
    return f(table);
  }
  const [R, H] = add.shape;
  if (!nativeKernelsReady()) return tf.reshape(tf.add(tf.reshape(embed(table, ids), [-1, R, H]), add), [-1, H]);
  const f = tf.customGrad(((t: tf.Tensor, a: tf.Tensor, save: tf.GradSaveFunc) => {
    void save;
    return {
      value: runKernel(NATIVE_KERNELS.gatherRows, { table: t, ids, add: a })[0],
      // The added rows' gradient sums dy over the sequences: a column sum of dy as [n/R, R·H].
      gradFunc: (dy: tf.Tensor) => [tableGrad(dy), tf.reshape(colSum(tf.reshape(dy, [-1, R * H])), [R, H])],
    };
  }) as never) as unknown as (t: tf.Tensor, a: tf.Tensor) => tf.Tensor2D;
  return f(table, add);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const GELU_TANH_A = 0.044715;

/** config.json's hidden_act → the function (checkConfig refuses any other name). */
export function activation(name: string | undefined, x: tf.Tensor): tf.Tensor {
  if (name === 'relu') return tf.relu(x);
  // Hugging Face's gelu_new and gelu_pytorch_tanh are both the tanh approximation (GPT-2's).
  return gelu(x, name === 'gelu_new' || name === 'gelu_pytorch_tanh');
}

/**
 * GELU: exact (erf, BERT's "gelu"), or with `tanh` the approximation
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Closed-form derivatives; one fused native pass
 * each way when available.
 */
export function gelu(x: tf.Tensor, tanh = false): tf.Tensor {
  if (recording()) return (tanh ? geluTanhWithGrad : geluWithGrad)(x);
  if (nativeKernelsReady()) return runKernel(tanh ? NATIVE_KERNELS.geluTanh : NATIVE_KERNELS.gelu, { x })[0];
  return tf.tidy(() => (tanh ? tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(geluTanhArg(x)))) : tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))))));
}

/** √(2/π)·(x + 0.044715·x³) */
function geluTanhArg(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_TANH_A)), SQRT_2_PI);
}

// Inside the forward functions no tape records, so gelu() is the forward pass alone.
const geluWithGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  if (nativeKernelsReady()) {
    return {
      value: gelu(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [runKernel(NATIVE_KERNELS.geluGrad, { dy, x: saved[0] })[0]],
    };
  }
  return {
    value: gelu(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx] = saved;
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(sx, SQRT1_2))));
      const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(tf.square(sx), -0.5)));
      return [tf.mul(dy, tf.add(cdf, tf.mul(sx, pdf)))];
    },
  };
}) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

const geluTanhWithGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  if (nativeKernelsReady()) {
    return {
      value: gelu(x, true),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [runKernel(NATIVE_KERNELS.geluTanhGrad, { dy, x: saved[0] })[0]],
    };
  }
  return {
    value: gelu(x, true),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      // d/dx = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(√(2/π)·(x + 0.044715·x³))
      const [sx] = saved;
      const t = tf.tanh(geluTanhArg(sx));
      const slope = tf.mul(tf.add(1, tf.mul(tf.square(sx), 3 * GELU_TANH_A)), SQRT_2_PI);
      const d = tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(tf.mul(sx, 0.5), tf.sub(1, tf.square(t))), slope));
      return [tf.mul(dy, d)];
    },
  };
}) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * LayerNorm over the last axis of x (+ `residual`, the post-LN block's skip connection) with a
 * closed-form backward pass: about half the kernels of the autodiff of moments/rsqrt, which
 * matters on wasm where each kernel call has a fixed cost.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, residual?: tf.Tensor): tf.Tensor {
  if (nativeKernelsReady() && !recording()) return runKernel(NATIVE_KERNELS.layerNorm, residual ? { x, gamma, beta, res: residual } : { x, gamma, beta }, { eps, inference: true })[0];
  if (nativeKernelsReady()) return residual ? nativeResidualLayerNorm(x, residual, gamma, beta, eps) : nativeLayerNorm(x, gamma, beta, eps);
  if (residual) x = tf.add(x, residual);
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(xi, -1, true);
    const xc = tf.sub(xi, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, srstd, sg] = saved;
        const dxhat = tf.mul(dy, sg);
        const dx = tf.mul(srstd, tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), -1, true))));
        const dgamma = colSum(tf.mul(dy, sxhat));
        const dbeta = colSum(dy);
        return [dx, dgamma, dbeta];
      },
    };
  }) as never) as unknown as (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  return f(x, gamma, beta);
}

/**
 * softmax(scores + maskBias) over the last axis; maskBias [B,1,1,S] is a constant (no gradient).
 * Natively one pass each way; otherwise tf's add + softmax and its autodiff.
 */
export function maskedSoftmax(scores: tf.Tensor, maskBias: tf.Tensor): tf.Tensor {
  if (!nativeKernelsReady()) return tf.softmax(tf.add(scores, maskBias));
  if (!recording()) return runKernel(NATIVE_KERNELS.maskedSoftmax, { x: scores, bias: maskBias })[0];
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = runKernel(NATIVE_KERNELS.maskedSoftmax, { x, bias: maskBias })[0];
    save([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [runKernel(NATIVE_KERNELS.softmaxGrad, { dy, y: saved[0] })[0]] };
  }) as never) as unknown as (x: tf.Tensor) => tf.Tensor;
  return f(scores);
}

const strided = (a: tf.Tensor, b: tf.Tensor, g: StridedGemm): tf.Tensor => runKernel(NATIVE_KERNELS.gemmStrided, { a, b }, g as never)[0];

/**
 * Multi-head attention's two products on the native BLAS, reading and writing each head in place
 * in the [rows, H] activations (head h of example b: rows b·S…, columns h·D…, leading dimension
 * H), so neither the split into heads nor the merge back needs a transpose, forward or backward.
 * Queries may be fewer than keys: Sq rows per example (the last layer asks only for [CLS]).
 */
export interface HeadShape { B: number; S: number; A: number; D: number; Sq: number }

/** scale · Q_bh · K_bhᵀ for every example and head: q [B·Sq, H], k [B·S, H] → [B, A, Sq, S]. */
function attentionScores(q: tf.Tensor2D, k: tf.Tensor2D, h: HeadShape, scale: number): tf.Tensor {
  const { B, S, A, D, Sq } = h;
  const H = A * D;
  const forward: StridedGemm = { outer: B, inner: A, m: Sq, n: S, k: D, transA: false, transB: true, lda: H, ldb: H, ldc: S, sAo: Sq * H, sAi: D, sBo: S * H, sBi: D, sCo: A * Sq * S, sCi: Sq * S, alpha: scale, outShape: [B, A, Sq, S] };
  if (!recording()) return strided(q, k, forward);
  const f = tf.customGrad(((qi: tf.Tensor, ki: tf.Tensor, save: tf.GradSaveFunc) => {
    save([qi, ki]);
    return {
      value: strided(qi, ki, forward),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk] = saved;
        // dQ_bh = scale·dS_bh·K_bh ; dK_bh = scale·dS_bhᵀ·Q_bh, written back into [rows, H].
        const dS = { outer: B, inner: A, n: D, transB: false, lda: S, ldb: H, ldc: H, sAo: A * Sq * S, sAi: Sq * S, sBi: D, sCi: D, alpha: scale };
        return [
          strided(dy, sk, { ...dS, m: Sq, k: S, transA: false, sBo: S * H, sCo: Sq * H, outShape: [B * Sq, H] }),
          strided(dy, sq, { ...dS, m: S, k: Sq, transA: true, sBo: Sq * H, sCo: S * H, outShape: [B * S, H] }),
        ];
      },
    };
  }) as never) as unknown as (qi: tf.Tensor, ki: tf.Tensor) => tf.Tensor;
  return f(q, k);
}

/** P_bh · V_bh for every example and head: probs [B, A, Sq, S], v [B·S, H] → [B·Sq, H]. */
function attentionContext(probs: tf.Tensor, v: tf.Tensor2D, h: HeadShape): tf.Tensor2D {
  const { B, S, A, D, Sq } = h;
  const H = A * D;
  const forward: StridedGemm = { outer: B, inner: A, m: Sq, n: D, k: S, transA: false, transB: false, lda: S, ldb: H, ldc: H, sAo: A * Sq * S, sAi: Sq * S, sBo: S * H, sBi: D, sCo: Sq * H, sCi: D, alpha: 1, outShape: [B * Sq, H] };
  if (!recording()) return strided(probs, v, forward) as tf.Tensor2D;
  const f = tf.customGrad(((p: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([p, vi]);
    return {
      value: strided(p, vi, forward),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sp, sv] = saved;
        return [
          // dP_bh = dC_bh · V_bhᵀ → [B, A, Sq, S]
          strided(dy, sv, { outer: B, inner: A, m: Sq, n: S, k: D, transA: false, transB: true, lda: H, ldb: H, ldc: S, sAo: Sq * H, sAi: D, sBo: S * H, sBi: D, sCo: A * Sq * S, sCi: Sq * S, alpha: 1, outShape: [B, A, Sq, S] }),
          // dV_bh = P_bhᵀ · dC_bh → [B·S, H]
          strided(sp, dy, { outer: B, inner: A, m: S, n: D, k: Sq, transA: true, transB: false, lda: S, ldb: H, ldc: H, sAo: A * Sq * S, sAi: Sq * S, sBo: Sq * H, sBi: D, sCo: S * H, sCi: D, alpha: 1, outShape: [B * S, H] }),
        ];
      },
    };
  }) as never) as unknown as (p: tf.Tensor, vi: tf.Tensor) => tf.Tensor2D;
  return f(probs, v);
}

/**
 * Multi-head self-attention from the projected q [B·Sq, H] and k, v [B·S, H] to the context
 * [B·Sq, H], with the padding mask and dropout on the attention probabilities. With the native
 * kernels the heads stay in place (strided BLAS); otherwise they are split and merged with
 * transposes.
 */
export function multiHeadAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, maskBias: tf.Tensor, h: HeadShape, scale: number, pAtt: number, rng: DropoutRng | undefined): tf.Tensor2D {
  if (nativeKernelsReady()) return attentionContext(dropout(maskedSoftmax(attentionScores(q, k, h, scale), maskBias), pAtt, rng), v, h);
  const { B, S, A, D, Sq } = h;
  const heads = (t: tf.Tensor, rows: number, perm: number[], shape: number[]) => tf.reshape(tf.transpose(tf.reshape(t, [B, rows, A, D]), perm), shape);
  const qh = heads(tf.mul(q, scale), Sq, [0, 2, 1, 3], [B * A, Sq, D]);
  const kT = heads(k, S, [0, 2, 3, 1], [B * A, D, S]);
  const vh = heads(v, S, [0, 2, 1, 3], [B * A, S, D]);
  const probs = dropout(maskedSoftmax(tf.reshape(mm(qh, kT), [B, A, Sq, S]), maskBias), pAtt, rng);
  return tf.reshape(tf.transpose(tf.reshape(mm(tf.reshape(probs, [B * A, Sq, S]), vh), [B, A, Sq, D]), [0, 2, 1, 3]), [B * Sq, A * D]) as tf.Tensor2D;
}

/** LayerNorm as two fused native kernels (forward keeps xhat and 1/std; backward gives dx, dγ, dβ in one pass). */
function nativeLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = runKernel(NATIVE_KERNELS.layerNorm, { x: xi, gamma: g, beta: b }, { eps });
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runKernel(NATIVE_KERNELS.layerNormGrad, { dy, xhat: saved[0], rstd: saved[1], gamma: saved[2] }),
    };
  }) as never) as unknown as (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  return f(x, gamma, beta);
}

/** LayerNorm(x + residual) with the sum made inside the native forward kernel; both branches get dx. */
function nativeResidualLayerNorm(x: tf.Tensor, residual: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const f = tf.customGrad(((xi: tf.Tensor, ri: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = runKernel(NATIVE_KERNELS.layerNorm, { x: xi, gamma: g, beta: b, res: ri }, { eps });
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dx, dgamma, dbeta] = runKernel(NATIVE_KERNELS.layerNormGrad, { dy, xhat: saved[0], rstd: saved[1], gamma: saved[2] });
        return [dx, dx, dgamma, dbeta];
      },
    };
  }) as never) as unknown as (xi: tf.Tensor, ri: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  return f(x, residual, gamma, beta);
}

/**
 * Dropout randomness with one seeded stream per example, so a mask does not depend on how a
 * batch is cut into micro-batches, and runs repeat exactly for a seed on every backend (tf's
 * own random ops differ by backend).
 */
export class DropoutRng {
  /** One mulberry32 state per example (the same generator as core/rng's Rng). */
  private readonly states: Uint32Array;
  constructor(seeds: number[]) {
    this.states = Uint32Array.from(seeds, mixSeed);
  }
  /** Per-example seeds for optimizer step `step` of a run seeded `seed`. */
  static forStep(seed: number, step: number, exampleIds: ArrayLike<number>): DropoutRng {
    const seeds: number[] = [];
    for (let i = 0; i < exampleIds.length; i++) seeds.push(((seed * 0x01000193) ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(exampleIds[i] + 1, 0x85ebca6b)) >>> 0);
    return new DropoutRng(seeds);
  }
  get batch(): number {
    return this.states.length;
  }
  /** Inverted-dropout mask for a tensor whose leading axis (or leading block) is the batch. */
  mask(shape: number[], rate: number): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const per = n / this.states.length;
    // The native kernel draws the same numbers from the same states, about 10× faster.
    if (nativeKernelsReady()) return runKernel(NATIVE_KERNELS.dropoutMask, {}, { shape, rate, states: this.states } as never)[0];
    const out = new Float32Array(n);
    const keep = 1 / (1 - rate);
    const st = this.states;
    for (let b = 0; b < st.length; b++) {
      const base = b * per;
      let s = st[b];
      for (let i = 0; i < per; i++) {
        s = (s + 0x6d2b79f5) >>> 0;
        out[base + i] = mulberry32Output(s) >= rate ? keep : 0;
      }
      st[b] = s;
    }
    return tf.tensor(out, shape);
  }
}

/** Inverted dropout; no-op at inference (`rng` undefined). */
export function dropout(x: tf.Tensor, rate: number, rng: DropoutRng | undefined): tf.Tensor {
  if (!rng || rate <= 0) return x;
  // Own gradient: tf's Multiply gradient casts both operands (a copy each on wasm) and the mask
  // needs none. The mask is made inside and saved: the forward pass's other tensors are freed.
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    const mask = rng.mask(xi.shape, rate);
    save([mask]);
    return { value: tf.mul(xi, mask), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0])] };
  }) as never) as unknown as (xi: tf.Tensor) => tf.Tensor;
  return f(x);
}

/** Summed softmax cross-entropy of logits [B,C] against integer labels, divided by `divisor`. */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array, divisor = labels.length): tf.Scalar {
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
  const lp = tf.logSoftmax(logits);
  return tf.div(tf.neg(tf.sum(tf.mul(oneHot, lp))), divisor) as tf.Scalar;
}
