/**
 * BERT's masked-LM corruption (Devlin et al. 2019): 15% of each text's tokens ([CLS], [SEP] and
 * padding excluded, at least one) are chosen as targets; of those, 80% become [MASK], 10% a
 * random token and 10% stay. The choice is drawn anew every epoch (RoBERTa's dynamic masking)
 * from (seed, epoch, example), so a run repeats exactly and does not depend on batching.
 */
import { Rng } from '../core/rng';

export interface MaskingSpec {
  /** Token ids that are never targets or replacements ([PAD], [CLS], [SEP], [MASK], [UNK]...). */
  special: ReadonlySet<number>;
  maskId: number;
  vocabSize: number;
  /** Share of each text's tokens to predict (BERT: 0.15). */
  probability: number;
}

export interface MaskedBatch {
  /** The corrupted ids, rows × len. */
  ids: Int32Array;
  /** Flat positions (row·len + column) of the targets. */
  positions: Int32Array;
  /** The original ids at those positions. */
  targets: Int32Array;
}

/** The seed of one example's draws in one epoch. */
function exampleSeed(seed: number, epoch: number, example: number): number {
  return ((seed * 0x01000193) ^ Math.imul(epoch + 1, 0x9e3779b1) ^ Math.imul(example + 1, 0x85ebca6b)) >>> 0;
}

/** A token id that is not special, uniformly. */
function randomToken(rng: Rng, spec: MaskingSpec): number {
  for (;;) {
    const t = rng.int(spec.vocabSize);
    if (!spec.special.has(t)) return t;
  }
}

/**
 * Masks `rows` (each `len` ids, `lengths[i]` of them before the padding) for `epoch`;
 * `examples[i]` names row i's example, so its draws do not depend on the batch it is in.
 */
export function maskRows(rows: Int32Array, lengths: ArrayLike<number>, len: number, examples: ArrayLike<number>, seed: number, epoch: number, spec: MaskingSpec): MaskedBatch {
  const ids = rows.slice();
  const positions: number[] = [];
  const targets: number[] = [];
  for (let r = 0; r < lengths.length; r++) {
    const rng = new Rng(exampleSeed(seed, epoch, examples[r]));
    const candidates: number[] = [];
    for (let c = 0; c < Math.min(len, lengths[r]); c++) if (!spec.special.has(rows[r * len + c])) candidates.push(c);
    if (candidates.length === 0) continue;
    const count = Math.max(1, Math.round(candidates.length * spec.probability));
    rng.shuffle(candidates);
    const chosen = candidates.slice(0, count).sort((a, b) => a - b);
    for (const c of chosen) {
      const at = r * len + c;
      positions.push(at);
      targets.push(rows[at]);
      const u = rng.next();
      if (u < 0.8) ids[at] = spec.maskId;
      else if (u < 0.9) ids[at] = randomToken(rng, spec);
    }
  }
  return { ids, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
}
