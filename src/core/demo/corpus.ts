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
  return `${aspect}${subjectParticle(aspect, rng.next() < 0.5)} ${intens}${pred}`;
}

const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;
const isSyllable = (c: string) => c.codePointAt(0)! >= HANGUL_FIRST && c.codePointAt(0)! <= HANGUL_LAST;
/** Final consonant index (0 = none) of a precomposed Hangul syllable. */
const finalOf = (c: string) => (c.codePointAt(0)! - HANGUL_FIRST) % 28;

/** Vowels people mix up when typing (ㅐ/ㅔ, ㅓ/ㅗ, ㅜ/ㅡ, ㅏ/ㅑ), by vowel index. */
const CONFUSED_VOWELS: Record<number, number> = { 1: 5, 5: 1, 4: 8, 8: 4, 13: 18, 18: 13, 0: 2, 2: 0 };

/** Topic (은/는) or subject (이/가) particle agreeing with the word's last syllable. */
function subjectParticle(word: string, topic: boolean): string {
  const last = Array.from(word).pop()!;
  const closed = isSyllable(last) && finalOf(last) !== 0;
  return topic ? (closed ? '은' : '는') : closed ? '이' : '가';
}

/**
 * Typing noise: swap two neighbouring characters, drop one, or a jamo-level slip inside a
 * Hangul syllable (final consonant dropped as in 조아요 for 좋아요, or the vowel replaced).
 */
function typo(rng: Rng, s: string): string {
  const chars = Array.from(s);
  if (chars.length < 4) return s;
  const kind = rng.next();
  if (kind < 0.5) {
    const syllables = chars.flatMap((c, i) => (isSyllable(c) ? [i] : []));
    if (syllables.length) {
      const i = syllables[rng.int(syllables.length)]!;
      const code = chars[i]!.codePointAt(0)! - HANGUL_FIRST;
      const fin = code % 28;
      const vowel = Math.floor(code / 28) % 21;
      const initial = Math.floor(code / 588);
      const swapped = CONFUSED_VOWELS[vowel];
      if (fin !== 0 || swapped !== undefined) {
        const dropFinal = fin !== 0 && (swapped === undefined || rng.next() < 0.6);
        const next = dropFinal ? initial * 588 + vowel * 28 : initial * 588 + swapped! * 28 + fin;
        chars[i] = String.fromCodePoint(HANGUL_FIRST + next);
        return chars.join('');
      }
    }
  }
  const i = 1 + rng.int(chars.length - 2);
  if (kind < 0.75) [chars[i], chars[i - 1]] = [chars[i - 1]!, chars[i]!];
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
