/**
 * Deterministic synthetic corpus of Korean game reviews with binary sentiment (1 positive,
 * 0 negative), shaped like NSMC (`id`, `document`, `label`). Learnable but not trivial:
 * mixed reviews where the final clause decides, negated predicates, noise (typos, emoji,
 * English, repeated characters), a tail of very long reviews so max_seq_len matters, a few
 * exact duplicates (to exercise de-duplication) and ~3% flipped labels.
 */
import { Rng } from '../rng';
import * as W from './words';

export interface DemoReview {
  text: string;
  label: 0 | 1;
}

export interface DemoOptions {
  count: number;
  seed: number;
  /** Share of labels flipped at random (default 0.03). */
  labelNoise?: number;
  /** Share of reviews that repeat an earlier one exactly (default 0.01). */
  duplicates?: number;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

function clause(rng: Rng, positive: boolean): string {
  const aspect = pick(rng, W.ASPECTS);
  const intens = rng.next() < 0.4 ? pick(rng, W.INTENSIFIERS) + ' ' : '';
  const pred = pick(rng, positive ? W.POSITIVE : W.NEGATIVE);
  const particle = rng.next() < 0.5 ? '은' : '이';
  return `${aspect}${particle} ${intens}${pred}`;
}

/** Character-level noise: swap two neighbours or drop one character. */
function typo(rng: Rng, s: string): string {
  const chars = Array.from(s);
  if (chars.length < 4) return s;
  const i = 1 + rng.int(chars.length - 2);
  if (rng.next() < 0.5) [chars[i], chars[i - 1]] = [chars[i - 1]!, chars[i]!];
  else chars.splice(i, 1);
  return chars.join('');
}

function review(rng: Rng, label: 0 | 1): string {
  const positive = label === 1;
  const parts: string[] = [];
  const opener = pick(rng, W.OPENERS);
  if (opener) parts.push(opener);
  const long = rng.next() < 0.06;
  const clauses = long ? 12 + rng.int(60) : 1 + rng.int(3);
  for (let c = 0; c < clauses; c++) {
    // Long and mixed reviews say something of the other polarity, then turn around.
    const against = c < clauses - 1 && rng.next() < (long ? 0.45 : 0.25);
    let s = clause(rng, against ? !positive : positive);
    if (against) s += ` ${pick(rng, W.CONTRASTS)}`;
    else if (c < clauses - 1 && rng.next() < 0.3) s += ` ${pick(rng, W.CONNECTIVES)}`;
    parts.push(s);
  }
  if (rng.next() < 0.7) parts.push(pick(rng, positive ? W.VERDICT_POSITIVE : W.VERDICT_NEGATIVE));
  if (rng.next() < 0.15) parts.push(pick(rng, positive ? W.ENGLISH_POSITIVE : W.ENGLISH_NEGATIVE));
  let text = parts.join(rng.next() < 0.5 ? ' ' : '. ');
  if (rng.next() < 0.2) text = typo(rng, text);
  if (rng.next() < 0.3) text += ' ' + pick(rng, W.LAUGHS).repeat(1 + rng.int(3));
  if (rng.next() < 0.2) text += ' ' + pick(rng, W.EMOJI);
  return text;
}

export function generateDemoCorpus(opts: DemoOptions): DemoReview[] {
  const rng = new Rng(opts.seed);
  const noise = opts.labelNoise ?? 0.03;
  const dupShare = opts.duplicates ?? 0.01;
  const out: DemoReview[] = [];
  for (let i = 0; i < opts.count; i++) {
    if (out.length > 10 && rng.next() < dupShare) {
      out.push({ ...out[rng.int(out.length)]! });
      continue;
    }
    const label: 0 | 1 = rng.next() < 0.5 ? 1 : 0;
    const text = review(rng, label);
    const shown = rng.next() < noise ? ((1 - label) as 0 | 1) : label;
    out.push({ text, label: shown });
  }
  return out;
}
