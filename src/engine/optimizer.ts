/** AdamW with decoupled weight decay, a warm-up/linear-decay schedule and global-norm clipping. */
import * as tf from '@tensorflow/tfjs';
import { adamwInPlace, NATIVE_KERNELS, nativeKernelsReady } from './native-blas';
import { noDecay } from './model';
import { runKernel } from './ops';

/**
 * Learning rate for optimizer update `step` (0-based) of `total`: linear warm-up, then linear
 * decay to 0 — Hugging Face's get_linear_schedule_with_warmup, whose first warm-up update has
 * factor 0/warmup.
 */
export function scheduledLr(base: number, step: number, warmup: number, total: number): number {
  if (warmup > 0 && step < warmup) return (base * step) / warmup;
  const rest = Math.max(1, total - warmup);
  return Math.max(0, (base * (total - step)) / rest);
}

export interface AdamWOptions {
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Updates applied so far (bias correction uses it). */
  t = 0;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly opts: AdamWOptions,
  ) {
    this.b1 = opts.beta1 ?? 0.9;
    this.b2 = opts.beta2 ?? 0.999;
    // Hugging Face Trainer's adam_epsilon.
    this.eps = opts.epsilon ?? 1e-8;
    for (const [n, p] of params) {
      this.m.set(n, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(n, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /**
   * One update with `grads` (averaged over the batch), each scaled by `gradScale` first (the
   * clipping factor from clipScale). With the native kernels each parameter takes one fused pass, in place.
   */
  apply(grads: Map<string, tf.Tensor>, lr: number, gradScale = 1): void {
    this.t++;
    const c1 = 1 - this.b1 ** this.t;
    const c2 = 1 - this.b2 ** this.t;
    const fused = nativeKernelsReady();
    for (const [n, p] of this.params) {
      const grad = grads.get(n);
      if (!grad) continue;
      const m = this.m.get(n)!;
      const v = this.v.get(n)!;
      const weightDecay = noDecay(n) ? 0 : this.opts.weightDecay;
      if (fused) {
        adamwInPlace(p, m, v, grad, { lr, beta1: this.b1, beta2: this.b2, c1, c2, eps: this.eps, weightDecay, gradScale });
        continue;
      }
      tf.tidy(() => {
        const g = gradScale === 1 ? grad : tf.mul(grad, gradScale);
        const m2 = tf.add(tf.mul(m, this.b1), tf.mul(g, 1 - this.b1));
        const v2 = tf.add(tf.mul(v, this.b2), tf.mul(tf.square(g), 1 - this.b2));
        m.assign(m2);
        v.assign(v2);
        let upd = tf.div(tf.div(m2, c1), tf.add(tf.sqrt(tf.div(v2, c2)), this.eps));
        if (weightDecay > 0) upd = tf.add(upd, tf.mul(p, weightDecay));
        p.assign(tf.sub(p, tf.mul(upd, lr)));
      });
    }
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
  }
}

/** The global L2 norm of all gradients, as one scalar tensor. */
export function globalNorm(grads: Iterable<tf.Tensor>): tf.Scalar {
  const fused = nativeKernelsReady();
  return tf.tidy(() => {
    const squares = [...grads].map((g) => (fused ? runKernel(NATIVE_KERNELS.sumSquares, { x: g })[0] : tf.sum(tf.square(g))));
    return tf.sqrt(tf.addN(squares)) as tf.Scalar;
  });
}

/** The factor that brings gradients of global norm `norm` down to at most `maxNorm` (1 when they are within it, or clipping is off). */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
}
