/** Which rows each optimizer step of an epoch trains on. */
import { Rng } from '../core/rng';
import type { EncodedSplit } from '../core/encoded';

/** Rows of `order` for optimizer step `s`. */
export function stepRows(order: Int32Array, s: number, batch: number): number[] {
  return Array.from(order.subarray(s * batch, Math.min(order.length, (s + 1) * batch)));
}

/**
 * Seeded per-epoch order in which each optimizer batch holds rows of similar length: shuffle,
 * sort windows of 50 batches by length, then shuffle the batches. Batches are trimmed to their
 * longest row, so this cuts padding work several-fold on real text (NSMC: median 19 tokens).
 */
export function shuffledOrder(split: EncodedSplit, batch: number, seed: number, epoch: number): Int32Array {
  const n = split.count;
  const rng = new Rng((seed * 7919 + epoch * 104729 + 1) >>> 0);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const window = batch * 50;
  for (let w = 0; w < n; w += window) {
    const part = order.subarray(w, Math.min(n, w + window));
    part.sort((a, b) => split.lengths[a] - split.lengths[b] || a - b);
  }
  const batches = Math.ceil(n / batch);
  // Keep the (possibly short) last batch last so every other batch is full.
  const full = Math.floor(n / batch);
  const perm = Int32Array.from({ length: full }, (_, i) => i);
  rng.shuffle(perm);
  const out = new Int32Array(n);
  let o = 0;
  for (let k = 0; k < batches; k++) {
    const b = k < full ? perm[k] : k;
    const rows = order.subarray(b * batch, Math.min(n, (b + 1) * batch));
    out.set(rows, o);
    o += rows.length;
  }
  return out;
}
