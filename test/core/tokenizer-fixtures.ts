/** Generated corpora and vocabs for the tokenizer tests (no shared data needed). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng';

const HANGUL = '영화재미있다없네요진짜최고별로배우연기스토리감동지루함게임그래픽좋아요싫어';
const LATIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Punctuation, symbols, CJK, accents, emoji, control and format characters, odd spaces. */
const TRICKY = [
  '.', ',', '!', '?', '~', '^', '$', '`', '|', '#', '@', '"', "'", '(', ')', '[', ']', '{', '}', '-', '_', '+', '=', '<', '>',
  '…', '“', '”', '「', '」', '·', '¿', '¡', '§', '※', '☆', '♥', '€', '°', '™',
  '中', '國', '字', '漢', '𠀀', '豈', 'の', 'カ', 'ㅋ', 'ㅠ',
  'é', 'ü', 'ñ', 'Å', 'e\u0301', 'ﬁ', 'Ⅻ', 'İ', 'ß',
  '😀', '👍🏻', '👨‍👩‍👧', '🇰🇷', '\u{1F9E0}',
  '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00ad', '\u200b', '\u200d', '\ufeff', '\ufffd', '\ue000', '\u0378',
  ' ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2003', '\u2028', '\u2029', '\u000b', '\u000c', '\u001c',
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function word(rng: Rng, alphabet: string, min: number, max: number): string {
  const n = min + rng.int(max - min + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** Texts mixing Korean, English, tricky characters, and now and then very long words. */
export function trickyCorpus(n: number, seed = 7): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    const words = 1 + rng.int(12);
    for (let w = 0; w < words; w++) {
      const r = rng.next();
      if (r < 0.45) parts.push(word(rng, HANGUL, 1, 6));
      else if (r < 0.65) parts.push(word(rng, LATIN, 1, 9));
      else if (r < 0.9) parts.push(word(rng, HANGUL, 0, 3) + pick(rng, TRICKY) + word(rng, LATIN + HANGUL, 0, 3));
      else if (r < 0.95) parts.push(pick(rng, TRICKY).repeat(1 + rng.int(4)));
      else parts.push(word(rng, rng.next() < 0.5 ? HANGUL : LATIN, 150, 260)); // around max_input_chars_per_word
    }
    out.push(parts.join(rng.next() < 0.8 ? ' ' : pick(rng, [' ', '  ', '\t', '', '\u3000'])));
  }
  return out;
}

/**
 * A vocab with special tokens, single characters, "##" characters and some multi-character
 * pieces (so longest-match-first matters); a few characters are left out on purpose (→ [UNK]).
 */
export function testVocab(): string[] {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const chars = new Set<string>();
  for (const ch of HANGUL + LATIN + '.,!?~^$`|#@"\'()[]{}-_+=<>…“”「」·中國字漢𠀀の😀é°') chars.add(ch);
  const tokens = [...specials];
  for (const c of chars) tokens.push(c);
  for (const c of chars) if (c !== 'Z' && c !== '싫') tokens.push(`##${c}`);
  tokens.push('영화', '##영화', '재미', '##있다', '##없네요', '진짜', 'ab', '##ab', '##abc', 'abcd', '##cd', 'the', '##the', '😀😀', '##😀', '게임', '##그래픽');
  return tokens;
}

export function writeVocab(dir: string, tokens = testVocab()): string {
  const p = join(dir, 'vocab.txt');
  writeFileSync(p, tokens.join('\n') + '\n');
  return p;
}

/** A labelled TSV (id, document, label) of `n` rows of review-like text, deterministic. */
export function reviewsTsv(n: number, seed = 11): string {
  const rng = new Rng(seed);
  const good = ['재미있다', '최고', '감동', '좋아요', 'great', '강추'];
  const bad = ['지루함', '별로', '최악', '싫어', 'boring', '노잼'];
  const rows = ['id\tdocument\tlabel'];
  for (let i = 0; i < n; i++) {
    const label = rng.int(2);
    const words: string[] = [];
    const len = 2 + rng.int(rng.next() < 0.05 ? 120 : 14);
    for (let w = 0; w < len; w++) words.push(rng.next() < 0.3 ? pick(rng, label ? good : bad) : word(rng, HANGUL, 1, 4) + (rng.next() < 0.2 ? pick(rng, ['.', '!', '~~', '?', 'ㅋㅋ', '😀']) : ''));
    rows.push(`${i}\t${words.join(' ')} #${i}\t${label}`);
  }
  return rows.join('\n') + '\n';
}
