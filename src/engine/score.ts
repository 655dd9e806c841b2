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

/**
 * A pass's fixed cost (kernel launches, the per-pass walk through every layer) in padded tokens'
 * worth of work: the plan below merges passes while merging costs less padding than this.
 */
export const PASS_COST_TOKENS = 32;

/**
 * How many rows each pass takes, for rows in length order (`padded[i]`: row i's padded length,
 * non-decreasing): the cut that does the least work, counted as padded tokens (rows × the pass's
 * longest) plus PASS_COST_TOKENS a pass, with at most `limit` rows a pass and at most
 * `fits(len)` rows at length len. Fixed-size passes over a short or spread-out split pad its
 * short rows to the long ones; this pads each to its neighbours (dynamic programming over the
 * cut points, O(rows × limit)).
 */
export function planPasses(padded: ArrayLike<number>, limit: number, fits: (len: number) => number): number[] {
  const n = padded.length;
  const cost = new Float64Array(n + 1).fill(Infinity);
  const take = new Int32Array(n + 1);
  cost[0] = 0;
  for (let end = 1; end <= n; end++) {
    // The pass ending at row end-1 has that row's length, the longest in it.
    const len = padded[end - 1];
    const most = Math.min(limit, fits(len), end);
    for (let rows = 1; rows <= most; rows++) {
      const c = cost[end - rows] + rows * len + PASS_COST_TOKENS;
      if (c < cost[end]) {
        cost[end] = c;
        take[end] = rows;
      }
    }
  }
  const sizes: number[] = [];
  for (let end = n; end > 0; end -= take[end]) sizes.push(take[end]);
  return sizes.reverse();
}

function run(model: BertClassifier, split: EncodedSplit, width: number, o: PassOptions, f: (batch: TokenBatch) => tf.Tensor2D): Float32Array {
  const out = new Float32Array(split.count * width);
  const order = byLength(split);
  const padded = Int32Array.from(order, (r) => longest(split, [r], split.maxLen));
  const fits = (len: number) => forwardRows(model.config, len, o.budgetMiB);
  // Lowered for the rest of the split once a pass of that many rows failed.
  let limit = MAX_ROWS;
  let plan = planPasses(padded, limit, fits);
  let firstFailure: string | undefined;
  for (let i = 0, p = 0; i < order.length; ) {
    const n = plan[p];
    const rows = Array.from(order.subarray(i, i + n));
    const len = padded[i + n - 1];
    try {
      o.beforePass?.(n, len);
      const data = tf.tidy(() => f(gatherBatch(split, rows, len)).dataSync() as Float32Array);
      rows.forEach((r, j) => out.set(data.subarray(j * width, (j + 1) * width), r * width));
      i += n;
      p++;
    } catch (e) {
      if (!looksLikeOom(e)) throw e;
      const why = `${n} row${n === 1 ? '' : 's'} at sequence length ${len} (${(e as Error).message})`;
      firstFailure ??= why;
      if (n === 1) throw new EngineError(`out of memory in a forward pass: ${firstFailure}${firstFailure === why ? '' : `; then 1 row at sequence length ${len}`}; lower max_len or use a smaller model`, 'oom');
      limit = Math.max(1, Math.floor(n / 2));
      o.log?.('warn', `allocation failed for ${why}; retrying with ${limit}`);
      // The rest of the split, planned again under the lower limit.
      plan = planPasses(padded.subarray(i), limit, fits);
      p = 0;
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
