/** What differs between full fine-tuning and head-only training, and what both share. */
import type * as tf from '@tensorflow/tfjs';
import { addInto } from './native-blas';

export interface Strategy {
  trainable: Map<string, tf.Variable>;
  /** Loss (summed over rows, divided by `divisor`) and its gradients, accumulated over micro-batches. */
  grads(rows: number[], step: number, divisor: number): { loss: tf.Scalar; grads: Map<string, tf.Tensor> };
  validate(): { loss: number; accuracy: number };
  microBatch(): number;
  /** Micro-batches per optimizer step, as run (the largest step's count). */
  accumulationSteps(): number;
  /** Whether the encoder ran at all: false for a frozen trial whose features were all cached. */
  readonly encoderRan: boolean;
  dispose(): void;
}

export function lossAndAccuracy(probs: Float32Array, labels: Int32Array, c: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = probs.subarray(i * c, (i + 1) * c);
    loss -= Math.log(Math.max(row[labels[i]], 1e-12));
    let best = 0;
    for (let j = 1; j < c; j++) if (row[j] > row[best]) best = j;
    if (best === labels[i]) correct++;
  }
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}

/** tfjs's variable names (what variableGrads keys by) → our parameter names. */
export function varNameMap(vars: Map<string, tf.Variable>): Map<string, string> {
  const m = new Map<string, string>();
  for (const [n, v] of vars) m.set(v.name, n);
  return m;
}

/**
 * Adds one micro-batch's gradients (keyed by tfjs variable name) into `acc` (keyed by parameter
 * name), in place where it can: the sum of micro-batches is one optimizer step's gradient.
 * The micro-batch's tensors are consumed.
 */
export function accumulateGrads(acc: Map<string, tf.Tensor>, grads: tf.NamedTensorMap, byVarName: Map<string, string>): void {
  for (const [vn, g] of Object.entries(grads)) {
    const n = byVarName.get(vn)!;
    const prev = acc.get(n);
    if (!prev) {
      acc.set(n, g);
      continue;
    }
    acc.set(n, addInto(prev, g));
    g.dispose();
  }
}
