/** Faults the engine tests inject from outside the engine: allocation failures of large micro-batches. */
import type * as tf from '@tensorflow/tfjs';
import { BertClassifier } from '../src/engine/model';

/**
 * Makes every training step on more than `rows` rows fail as a full wasm heap does, so the
 * micro-batch halving is tested without filling memory. Returns the undo.
 */
export function failMicroBatchesAbove(rows: number): () => void {
  const loss = BertClassifier.prototype.loss;
  BertClassifier.prototype.loss = function (this: BertClassifier, ids: tf.Tensor2D, ...rest: Parameters<typeof loss> extends [unknown, ...infer R] ? R : never) {
    if (ids.shape[0] > rows) throw new RangeError('Array buffer allocation failed (simulated)');
    return loss.call(this, ids, ...rest);
  };
  return () => {
    BertClassifier.prototype.loss = loss;
  };
}
