/** Generated data for engine tests: token ids that signal the label, plus noise tokens. */
import type { EncodedSplit } from '../../src/core/encoded';
import { Rng } from '../../src/core/rng';

export const TOY_VOCAB = 60;

/**
 * Rows [CLS] w… [SEP] [PAD]…: label 1 rows contain token 7 somewhere, label 0 rows token 8;
 * the rest are random tokens 10..59. Lengths vary from 4 to maxLen.
 */
export function toySplit(count: number, maxLen: number, seed: number): EncodedSplit {
  const rng = new Rng(seed);
  const ids = new Int32Array(count * maxLen);
  const lengths = new Uint16Array(count);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const len = 4 + rng.int(maxLen - 3);
    const label = rng.int(2);
    const row = ids.subarray(r * maxLen, (r + 1) * maxLen);
    row[0] = 2;
    for (let i = 1; i < len - 1; i++) row[i] = 10 + rng.int(TOY_VOCAB - 10);
    row[1 + rng.int(len - 2)] = label ? 7 : 8;
    row[len - 1] = 3;
    lengths[r] = len;
    labels[r] = label;
  }
  return { maxLen, count, ids, lengths, labels };
}

export const baseParams = {
  learning_rate: 1e-3,
  warmup_steps: 5,
  freeze_body: false,
  dropout_rate: 0.1,
  batch_size: 16,
  epochs: 3,
  max_seq_len: 16,
  seed: 1,
  weight_decay: 0.01,
  max_grad_norm: 1.0,
  /** No early stopping unless a test asks for it. */
  patience: 10_000,
};
