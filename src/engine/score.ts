/** Inference over a split in length-sorted batches (less padding), results in row order. */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import type { BertClassifier } from './model';
import { gatherBatch, longest } from './data';

function byLength(split: EncodedSplit): Int32Array {
  const order = Int32Array.from({ length: split.count }, (_, i) => i);
  order.sort((a, b) => split.lengths[a] - split.lengths[b] || a - b);
  return order;
}

function run(split: EncodedSplit, batch: number, width: number, f: (ids: tf.Tensor2D) => tf.Tensor2D): Float32Array {
  const out = new Float32Array(split.count * width);
  const order = byLength(split);
  for (let i = 0; i < order.length; i += batch) {
    const rows = Array.from(order.subarray(i, i + batch));
    const data = tf.tidy(() => {
      const { ids } = gatherBatch(split, rows, longest(split, rows, split.maxLen));
      return f(ids).dataSync() as Float32Array;
    });
    rows.forEach((r, j) => out.set(data.subarray(j * width, (j + 1) * width), r * width));
  }
  return out;
}

/** Class probabilities [count × numLabels], row-major. */
export function scoreRows(model: BertClassifier, split: EncodedSplit, batch: number): Float32Array {
  return run(split, batch, model.numLabels, (ids) => tf.softmax(model.logits(ids, 0)));
}

/** Pooled [CLS] features [count × hidden], row-major (the frozen body's output). */
export function pooledFeatures(model: BertClassifier, split: EncodedSplit, batch: number): Float32Array {
  return run(split, batch, model.config.hidden_size, (ids) => model.pooled(ids));
}
