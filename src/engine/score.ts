/**
 * Forward-only passes over a split (validation, predict, evaluate, frozen features): rows in
 * length order (less padding), each pass sized by the memory model for its own length, halved
 * when an allocation fails anyway; results in row order.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import type { TrainHooks } from './types';
import type { BertClassifier, TokenBatch } from './model';
import { gatherBatch, longest } from './data';
import { forwardRows } from './memory';
import { looksLikeOom } from '../core/errors';
import { EngineError } from './errors';

/** Most rows in one pass: beyond this a bigger pass saves nothing measurable. */
const MAX_ROWS = 64;

/** How passes over the model are sized and watched (training micro-batches use it too). */
export interface PassOptions {
  /** Activation budget (memory.ts activationBudgetMiB). */
  budgetMiB: number;
  log?: TrainHooks['onLog'];
  beforePass?: TrainHooks['beforePass'];
}

function byLength(split: EncodedSplit): Int32Array {
  const order = Int32Array.from({ length: split.count }, (_, i) => i);
  order.sort((a, b) => split.lengths[a] - split.lengths[b] || a - b);
  return order;
}

function run(model: BertClassifier, split: EncodedSplit, width: number, o: PassOptions, f: (batch: TokenBatch) => tf.Tensor2D): Float32Array {
  const out = new Float32Array(split.count * width);
  const order = byLength(split);
  const lenOf = (i: number) => longest(split, [order[i]], split.maxLen);
  // Lowered for the rest of the split once a pass of that many rows failed.
  let limit = MAX_ROWS;
  let firstFailure: string | undefined;
  for (let i = 0; i < order.length; ) {
    // Rows are in length order, so the last row of a pass sets its length.
    let n = 1;
    while (n < limit && i + n < order.length && (n + 1) <= forwardRows(model.config, lenOf(i + n), o.budgetMiB)) n++;
    const rows = Array.from(order.subarray(i, i + n));
    const len = longest(split, rows, split.maxLen);
    try {
      o.beforePass?.(n, len);
      const data = tf.tidy(() => f(gatherBatch(split, rows, len)).dataSync() as Float32Array);
      rows.forEach((r, j) => out.set(data.subarray(j * width, (j + 1) * width), r * width));
      i += n;
    } catch (e) {
      if (!looksLikeOom(e)) throw e;
      const why = `${n} row${n === 1 ? '' : 's'} at sequence length ${len} (${(e as Error).message})`;
      firstFailure ??= why;
      if (n === 1) throw new EngineError(`out of memory in a forward pass: ${firstFailure}${firstFailure === why ? '' : `; then 1 row at sequence length ${len}`}; lower max_len or use a smaller model`, 'oom');
      limit = Math.max(1, Math.floor(n / 2));
      o.log?.('warn', `allocation failed for ${why}; retrying with ${limit}`);
    }
  }
  return out;
}

/** Class probabilities [count × numLabels], row-major. */
export function scoreRows(model: BertClassifier, split: EncodedSplit, o: PassOptions): Float32Array {
  return run(model, split, model.numLabels, o, (b) => tf.softmax(model.logits(b, 0)));
}

/** Pooled [CLS] features [count × hidden], row-major (the frozen body's output). */
export function pooledFeatures(model: BertClassifier, split: EncodedSplit, o: PassOptions): Float32Array {
  return run(model, split, model.config.hidden_size, o, (b) => model.pooled(b));
}
