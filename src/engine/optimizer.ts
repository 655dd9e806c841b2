/** AdamW with decoupled weight decay, a warm-up/linear-decay schedule and global-norm clipping. */
import * as tf from '@tensorflow/tfjs';
import { noDecay } from './model';

/** Learning rate for optimizer update `step` (0-based) of `total`: linear warm-up, then linear decay to 0. */
export function scheduledLr(base: number, step: number, warmup: number, total: number): number {
  if (warmup > 0 && step < warmup) return (base * (step + 1)) / warmup;
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
    this.eps = opts.epsilon ?? 1e-6;
    for (const [n, p] of params) {
      this.m.set(n, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(n, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** One update with `grads` (already clipped and averaged). */
  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.t++;
    const c1 = 1 - this.b1 ** this.t;
    const c2 = 1 - this.b2 ** this.t;
    for (const [n, p] of this.params) {
      const g = grads.get(n);
      if (!g) continue;
      tf.tidy(() => {
        const m = this.m.get(n)!;
        const v = this.v.get(n)!;
        const m2 = tf.add(tf.mul(m, this.b1), tf.mul(g, 1 - this.b1));
        const v2 = tf.add(tf.mul(v, this.b2), tf.mul(tf.square(g), 1 - this.b2));
        m.assign(m2);
        v.assign(v2);
        let upd = tf.div(tf.div(m2, c1), tf.add(tf.sqrt(tf.div(v2, c2)), this.eps));
        if (this.opts.weightDecay > 0 && !noDecay(n)) upd = tf.add(upd, tf.mul(p, this.opts.weightDecay));
        p.assign(tf.sub(p, tf.mul(upd, lr)));
      });
    }
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
  }
}

/** Scales grads so their global L2 norm is at most maxNorm; returns the new map and the norm tensor. */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { clipped: Map<string, tf.Tensor>; norm: tf.Scalar } {
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
  if (!(maxNorm > 0)) return { clipped: grads, norm };
  const scale = tf.tidy(() => tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))));
  const clipped = new Map<string, tf.Tensor>();
  for (const [n, g] of grads) clipped.set(n, tf.mul(g, scale));
  scale.dispose();
  return { clipped, norm };
}
