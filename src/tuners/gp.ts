/**
 * A small Gaussian-process regressor for Bayesian optimisation: Matérn 5/2 kernel with one
 * length-scale per input (ARD), constant signal variance and Gaussian noise, fitted by
 * maximising the log marginal likelihood (plus weak log-normal priors that keep length-scales
 * sane with few points) with Adam from a few starts. Inputs are expected in [0, 1]^d, outputs
 * standardised by the caller. The Cholesky factor comes from ml-matrix.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { Rng } from '../core/rng';

const SQRT5 = Math.sqrt(5);
const JITTER = 1e-8;

/** Hyperparameters on the log scale: [log ℓ_1 … log ℓ_d, log σ_f², log σ_n²]. */
export type GpTheta = Float64Array;

const BOUNDS = { logLen: [Math.log(0.01), Math.log(20)], logSf: [Math.log(0.05), Math.log(20)], logSn: [Math.log(1e-6), Math.log(0.5)] };
// Weak priors (means and standard deviations on the log scale).
const PRIOR = { logLen: [Math.log(0.5), 1.5], logSf: [0, 1.5], logSn: [Math.log(1e-3), 3] };

function clampTheta(th: GpTheta, d: number): void {
  for (let k = 0; k < d; k++) th[k] = Math.min(BOUNDS.logLen[1], Math.max(BOUNDS.logLen[0], th[k]));
  th[d] = Math.min(BOUNDS.logSf[1], Math.max(BOUNDS.logSf[0], th[d]));
  th[d + 1] = Math.min(BOUNDS.logSn[1], Math.max(BOUNDS.logSn[0], th[d + 1]));
}

/** Lower Cholesky factor (row-major n×n) of a symmetric positive-definite matrix, or undefined. */
function cholesky(K: Float64Array, n: number): Float64Array | undefined {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, K[i * n + j]);
  const c = new CholeskyDecomposition(m);
  if (!c.isPositiveDefinite()) return undefined;
  const L = c.lowerTriangularMatrix;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[i * n + j] = L.get(i, j);
  return out;
}

/** Solves L x = b in place (forward substitution). */
function forward(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= L[row + k] * b[k];
    b[i] = s / L[row + i];
  }
  return b;
}

/** Solves Lᵀ x = b in place (back substitution). */
function backward(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
  return b;
}

/**
 * K⁻¹ = L⁻ᵀ L⁻¹ from the Cholesky factor, lower triangle only (row-major), with row-wise
 * loops so memory is read contiguously.
 */
function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  const Li = new Float64Array(n * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    acc.fill(0, 0, i);
    const rowL = i * n;
    for (let k = 0; k < i; k++) {
      const l = L[rowL + k];
      if (l === 0) continue;
      const rowK = k * n;
      for (let j = 0; j <= k; j++) acc[j] += l * Li[rowK + j];
    }
    const d = L[rowL + i];
    for (let j = 0; j < i; j++) Li[rowL + j] = -acc[j] / d;
    Li[rowL + i] = 1 / d;
  }
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rowK = k * n;
    for (let i = 0; i <= k; i++) {
      const ri = Li[rowK + i];
      if (ri === 0) continue;
      const rowI = i * n;
      for (let j = 0; j <= i; j++) inv[rowI + j] += ri * Li[rowK + j];
    }
  }
  return inv;
}

interface Fitted {
  L: Float64Array;
  alpha: Float64Array;
  lml: number;
}

export class GaussianProcess {
  readonly d: number;
  private X: Float64Array[] = [];
  private y = new Float64Array(0);
  private theta: GpTheta;
  private fit?: Fitted;
  /** Squared coordinate differences per input, cached for the hyperparameter gradient. */
  private diff2: Float64Array[] = [];

  constructor(d: number) {
    this.d = d;
    this.theta = GaussianProcess.defaultTheta(d);
  }

  static defaultTheta(d: number): GpTheta {
    const th = new Float64Array(d + 2);
    th.fill(Math.log(0.5), 0, d);
    th[d] = 0;
    th[d + 1] = Math.log(1e-3);
    return th;
  }

  get hyperparameters(): { lengthScales: number[]; signalVariance: number; noiseVariance: number } {
    const th = this.theta;
    return {
      lengthScales: Array.from(th.subarray(0, this.d), Math.exp),
      signalVariance: Math.exp(th[this.d]),
      noiseVariance: Math.exp(th[this.d + 1]),
    };
  }

  /** Sets the data and factorises with the current hyperparameters. */
  setData(X: ArrayLike<number>[], y: ArrayLike<number>): void {
    this.X = X.map((x) => Float64Array.from(x));
    this.y = Float64Array.from(y);
    this.diff2 = [];
    this.fit = this.factorise(this.theta);
    if (!this.fit) throw new Error('GP: kernel matrix not positive definite');
  }

  private kernelMatrix(th: GpTheta): Float64Array {
    const n = this.X.length;
    const d = this.d;
    const inv = new Float64Array(d);
    for (let k = 0; k < d; k++) inv[k] = Math.exp(-2 * th[k]);
    const sf = Math.exp(th[d]);
    const sn = Math.exp(th[d + 1]);
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const xi = this.X[i];
      K[i * n + i] = sf + sn + JITTER;
      for (let j = 0; j < i; j++) {
        const xj = this.X[j];
        let r2 = 0;
        for (let k = 0; k < d; k++) r2 += (xi[k] - xj[k]) ** 2 * inv[k];
        const r = Math.sqrt(r2);
        const v = sf * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
        K[i * n + j] = v;
        K[j * n + i] = v;
      }
    }
    return K;
  }

  private factorise(th: GpTheta): Fitted | undefined {
    const n = this.X.length;
    const L = cholesky(this.kernelMatrix(th), n);
    if (!L) return undefined;
    const alpha = backward(L, n, forward(L, n, Float64Array.from(this.y)));
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += Math.log(L[i * n + i]);
    let fit = 0;
    for (let i = 0; i < n; i++) fit += this.y[i] * alpha[i];
    return { L, alpha, lml: -0.5 * fit - logDet - 0.5 * n * Math.log(2 * Math.PI) };
  }

  private logPrior(th: GpTheta): { value: number; grad: Float64Array } {
    const d = this.d;
    const grad = new Float64Array(d + 2);
    let value = 0;
    const term = (k: number, [m, s]: number[]): void => {
      const z = (th[k] - m) / s;
      value -= 0.5 * z * z;
      grad[k] = -z / s;
    };
    for (let k = 0; k < d; k++) term(k, PRIOR.logLen);
    term(d, PRIOR.logSf);
    term(d + 1, PRIOR.logSn);
    return { value, grad };
  }

  /** Log posterior of θ and its gradient: ½ tr((ααᵀ − K⁻¹) ∂K/∂θ) + prior. */
  private objective(th: GpTheta): { value: number; grad: Float64Array } | undefined {
    const n = this.X.length;
    const d = this.d;
    const f = this.factorise(th);
    if (!f) return undefined;
    if (this.diff2.length === 0) {
      for (let k = 0; k < d; k++) {
        const a = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (this.X[i][k] - this.X[j][k]) ** 2;
        this.diff2.push(a);
      }
    }
    // W = ααᵀ − K⁻¹ (lower triangle is all the loop below reads).
    const Kinv = inverseFromCholesky(f.L, n);
    const W = new Float64Array(n * n);
    for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) W[r * n + c] = f.alpha[r] * f.alpha[c] - Kinv[r * n + c];
    const inv = new Float64Array(d);
    for (let k = 0; k < d; k++) inv[k] = Math.exp(-2 * th[k]);
    const sf = Math.exp(th[d]);
    const sn = Math.exp(th[d + 1]);
    const grad = new Float64Array(d + 2);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const idx = i * n + j;
        let r2 = 0;
        for (let k = 0; k < d; k++) r2 += this.diff2[k][idx] * inv[k];
        const r = Math.sqrt(r2);
        const ex = Math.exp(-SQRT5 * r);
        const kval = sf * (1 + SQRT5 * r + (5 / 3) * r2) * ex;
        const common = sf * (5 / 3) * (1 + SQRT5 * r) * ex; // ∂k/∂log ℓ_k = common · Δ_k²/ℓ_k²
        const w = W[idx]; // symmetric: count both (i,j) and (j,i)
        grad[d] += w * kval;
        for (let k = 0; k < d; k++) grad[k] += w * common * this.diff2[k][idx] * inv[k];
      }
      const wii = W[i * n + i];
      grad[d] += 0.5 * wii * sf;
      grad[d + 1] += 0.5 * wii * sn;
    }
    // Off-diagonal sums counted each pair once; the symmetric factor 2 and the ½ cancel.
    const prior = this.logPrior(th);
    for (let k = 0; k < d + 2; k++) grad[k] += prior.grad[k];
    return { value: f.lml + prior.value, grad };
  }

  /**
   * Fits the hyperparameters (Adam on the log posterior) from the current ones, the defaults
   * and `restarts` random starts; keeps the best.
   */
  optimise(rng: Rng, restarts = 1, steps = 40): void {
    const d = this.d;
    const starts: GpTheta[] = [Float64Array.from(this.theta)];
    const dflt = GaussianProcess.defaultTheta(d);
    if (dflt.some((v, k) => v !== this.theta[k])) starts.push(dflt);
    for (let r = 0; r < restarts; r++) {
      const th = GaussianProcess.defaultTheta(d);
      for (let k = 0; k < d; k++) th[k] = Math.log(0.05) + rng.next() * (Math.log(2) - Math.log(0.05));
      th[d] = (rng.next() - 0.5) * 1.0;
      th[d + 1] = Math.log(1e-5) + rng.next() * (Math.log(0.1) - Math.log(1e-5));
      starts.push(th);
    }
    let best: { th: GpTheta; value: number } | undefined;
    for (const start of starts) {
      const th = Float64Array.from(start);
      const m = new Float64Array(d + 2);
      const v = new Float64Array(d + 2);
      const lr = 0.08;
      let cur = this.objective(th);
      let bestHere = cur ? { th: Float64Array.from(th), value: cur.value } : undefined;
      for (let t = 1; t <= steps && cur; t++) {
        for (let k = 0; k < d + 2; k++) {
          const g = cur.grad[k];
          m[k] = 0.9 * m[k] + 0.1 * g;
          v[k] = 0.999 * v[k] + 0.001 * g * g;
          const mh = m[k] / (1 - 0.9 ** t);
          const vh = v[k] / (1 - 0.999 ** t);
          th[k] += (lr * mh) / (Math.sqrt(vh) + 1e-8); // ascent
        }
        clampTheta(th, d);
        cur = this.objective(th);
        if (cur && (!bestHere || cur.value > bestHere.value)) bestHere = { th: Float64Array.from(th), value: cur.value };
      }
      if (bestHere && (!best || bestHere.value > best.value)) best = bestHere;
    }
    if (best) {
      this.theta = best.th;
      this.fit = this.factorise(this.theta);
    }
  }

  /** Uses another GP's fitted hyperparameters (e.g. one fitted on a subset of the data). */
  setTheta(theta: GpTheta): void {
    this.theta = Float64Array.from(theta);
    if (this.X.length) {
      this.fit = this.factorise(this.theta);
      if (!this.fit) throw new Error('GP: kernel matrix not positive definite');
    }
  }

  get thetaVector(): GpTheta {
    return Float64Array.from(this.theta);
  }

  /** Adds points with given targets without refitting hyperparameters (constant liar). */
  addPoints(X: ArrayLike<number>[], y: number[]): void {
    this.X.push(...X.map((x) => Float64Array.from(x)));
    const ny = new Float64Array(this.y.length + y.length);
    ny.set(this.y);
    ny.set(y, this.y.length);
    this.y = ny;
    this.diff2 = [];
    this.fit = this.factorise(this.theta);
    if (!this.fit) throw new Error('GP: kernel matrix not positive definite');
  }

  /** Posterior mean and standard deviation (latent function, without noise) at x. */
  predict(x: ArrayLike<number>): { mean: number; std: number } {
    const fit = this.fit!;
    const n = this.X.length;
    const d = this.d;
    const th = this.theta;
    const sf = Math.exp(th[d]);
    const ks = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const xi = this.X[i];
      let r2 = 0;
      for (let k = 0; k < d; k++) r2 += (xi[k] - x[k]) ** 2 * Math.exp(-2 * th[k]);
      const r = Math.sqrt(r2);
      ks[i] = sf * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
    }
    let mean = 0;
    for (let i = 0; i < n; i++) mean += ks[i] * fit.alpha[i];
    const v = forward(fit.L, n, ks);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i] * v[i];
    return { mean, std: Math.sqrt(Math.max(1e-12, sf - vv)) };
  }
}
