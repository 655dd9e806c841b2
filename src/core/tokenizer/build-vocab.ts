/**
 * A character-level WordPiece vocab from a corpus, for the demo and for users without one:
 * special tokens first, then word-initial characters and "##" continuation characters by
 * frequency after BERT's pre-tokenization, so every text in the corpus encodes without [UNK].
 */
import { UserError } from '../errors';
import { basicTokenize, type BasicOptions } from './basic';

export const VOCAB_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export function buildCharVocab(texts: Iterable<string>, size: number, o: BasicOptions = {}): string[] {
  if (!Number.isInteger(size) || size < VOCAB_SPECIALS.length + 1) {
    throw new UserError(`size: ${size} is too small; a vocab needs the ${VOCAB_SPECIALS.length} special tokens and at least one character`, 'E_USAGE');
  }
  const freq = new Map<string, number>();
  const bump = (t: string): void => {
    freq.set(t, (freq.get(t) ?? 0) + 1);
  };
  for (const text of texts) {
    for (const word of basicTokenize(text, o)) {
      let first = true;
      for (const ch of word) {
        bump(first ? ch : `##${ch}`);
        first = false;
      }
    }
  }
  // Most frequent first; ties in code-point order so the file is deterministic.
  const ranked = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: string[] = [...VOCAB_SPECIALS];
  for (const [t] of ranked) {
    if (out.length >= size) break;
    if (!(VOCAB_SPECIALS as readonly string[]).includes(t)) out.push(t);
  }
  return out;
}
