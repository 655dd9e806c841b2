/** Batches from encoded splits: rows picked by index, trimmed to the longest row among them. */
import * as tf from '@tensorflow/tfjs';
import type { EncodedSplit } from '../core/encoded';
import { UserError } from '../core/errors';
import type { TokenBatch } from './model';

/**
 * Longest row (non-pad tokens) among `rows`, rounded up to a multiple of 8 (the SIMD attention
 * kernel wants multiples of 4), at most `cap`.
 */
export function longest(split: EncodedSplit, rows: ArrayLike<number>, cap: number): number {
  let m = 1;
  for (let i = 0; i < rows.length; i++) m = Math.max(m, split.lengths[rows[i]]);
  return Math.min(Math.ceil(m / 8) * 8, cap);
}

/** The ids of `rows` (row-major, each cut to its first `len` tokens) and their lengths. */
export function rowIds(split: EncodedSplit, rows: ArrayLike<number>, len: number): { ids: Int32Array; lengths: Int32Array } {
  const ids = new Int32Array(rows.length * len);
  const lengths = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    ids.set(split.ids.subarray(r * split.maxLen, r * split.maxLen + len), i * len);
    lengths[i] = Math.min(split.lengths[r], len);
  }
  return { ids, lengths };
}

/** ids [rows, len] (int32), lengths and labels of `rows`, each row cut to its first `len` tokens. */
export function gatherBatch(split: EncodedSplit, rows: ArrayLike<number>, len: number): TokenBatch & { labels: Int32Array } {
  const { ids, lengths } = rowIds(split, rows, len);
  return { ids: tf.tensor2d(ids, [rows.length, len], 'int32'), lengths, labels: Int32Array.from(rows, (r) => split.labels[r]) };
}

/** Checks a split against the model: shapes, token ids below vocab_size, labels below numLabels. */
export function checkSplit(name: string, split: EncodedSplit, vocabSize: number, numLabels: number, maxPositions: number): void {
  if (split.count <= 0) throw new UserError(`${name} split: has no examples`, 'E_DATA');
  if (split.ids.length !== split.count * split.maxLen || split.labels.length !== split.count || split.lengths.length !== split.count) {
    throw new UserError(`${name} split: ids/labels/lengths sizes do not match count ${split.count} × max_len ${split.maxLen}`, 'E_DATA');
  }
  if (split.maxLen > maxPositions) {
    throw new UserError(`max_len ${split.maxLen} is above the model's max_position_embeddings ${maxPositions}; lower max_seq_len to ${maxPositions} or less`, 'E_MAXLEN');
  }
  let maxId = -1;
  let at = -1;
  for (let i = 0; i < split.ids.length; i++) if (split.ids[i] > maxId) { maxId = split.ids[i]; at = i; }
  if (maxId >= vocabSize) {
    throw new UserError(`${name} split: row ${Math.floor(at / split.maxLen)} has token id ${maxId}, but the model's vocab_size is ${vocabSize}; the data was tokenized with a different (larger) vocab than the model's`, 'E_VOCAB');
  }
  for (let i = 0; i < split.count; i++) {
    const l = split.labels[i];
    if (l < 0 || l >= numLabels) throw new UserError(`${name} split: row ${i} has label id ${l}, but there are ${numLabels} labels`, 'E_DATA');
  }
}

/** Keeps only the first `maxLen` columns (for max_seq_len below the split's own max_len). */
export function truncateSplit(split: EncodedSplit, maxLen: number): EncodedSplit {
  if (maxLen >= split.maxLen) return split;
  const ids = new Int32Array(split.count * maxLen);
  const lengths = new Uint16Array(split.count);
  for (let r = 0; r < split.count; r++) {
    ids.set(split.ids.subarray(r * split.maxLen, r * split.maxLen + maxLen), r * maxLen);
    lengths[r] = Math.min(split.lengths[r], maxLen);
  }
  return { maxLen, count: split.count, ids, lengths, labels: split.labels };
}

/** Cheap content fingerprint of a split (FNV-1a over ids and labels), for feature-cache keys. */
export function splitFingerprint(split: EncodedSplit): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h ^= x & 0xff; h = Math.imul(h, 0x01000193);
    h ^= (x >>> 8) & 0xff; h = Math.imul(h, 0x01000193);
    h ^= (x >>> 16) & 0xff; h = Math.imul(h, 0x01000193);
    h ^= x >>> 24; h = Math.imul(h, 0x01000193);
  };
  mix(split.count); mix(split.maxLen);
  for (let i = 0; i < split.ids.length; i++) mix(split.ids[i]);
  for (let i = 0; i < split.labels.length; i++) mix(split.labels[i]);
  return (h >>> 0).toString(16).padStart(8, '0');
}
