/**
 * BERT's BasicTokenizer character rules, as lookup tables: what `_clean_text` drops, what
 * `_is_whitespace` turns into a space, which characters `_tokenize_chinese_chars` and
 * `_run_split_on_punc` make tokens of their own. Also a plain, string-based BasicTokenizer used
 * for building vocabularies and as a readable statement of the semantics in tests.
 */

export const enum CharClass {
  /** Part of a word. */
  Word = 0,
  /** Whitespace: ends a word (space, \t, \n, \r, category Zs; U+2028/U+2029, which Python's split() splits on). */
  Space = 1,
  /** Removed by clean-up: NUL, U+FFFD, categories C* (control, format, unassigned, private use). */
  Drop = 2,
  /** A token by itself: punctuation (ASCII 33-47, 58-64, 91-96, 123-126 and categories P*). */
  Punct = 3,
  /** A token by itself: CJK ideograph. */
  Cjk = 4,
  /** High surrogate: look at the pair. */
  High = 5,
}

const RE_CONTROL = /^\p{C}$/u;
const RE_ZS = /^\p{Zs}$/u;
const RE_PUNCT = /^\p{P}$/u;

/** Class of one code point, by BERT's rules. */
export function classify(cp: number): CharClass {
  if (cp === 0 || cp === 0xfffd) return CharClass.Drop;
  if (cp === 32 || cp === 9 || cp === 10 || cp === 13) return CharClass.Space;
  if (cp >= 0xd800 && cp <= 0xdfff) return CharClass.Drop; // lone surrogate (pairs are handled by the caller)
  const ch = String.fromCodePoint(cp);
  if (RE_CONTROL.test(ch)) return CharClass.Drop;
  if (RE_ZS.test(ch) || cp === 0x2028 || cp === 0x2029) return CharClass.Space;
  if (isCjk(cp)) return CharClass.Cjk;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return CharClass.Punct;
  if (RE_PUNCT.test(ch)) return CharClass.Punct;
  return CharClass.Word;
}

/** The "Chinese character" blocks BERT splits around (CJK Unified Ideographs and extensions). */
export function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

let bmp: Uint8Array | undefined;
const astral = new Map<number, CharClass>();

/** Class of every UTF-16 code unit (built once, ~10 ms). */
export function bmpClasses(): Uint8Array {
  if (bmp) return bmp;
  const t = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) t[c] = c >= 0xd800 && c <= 0xdbff ? CharClass.High : classify(c);
  bmp = t;
  return t;
}

/** Class of a supplementary-plane code point (cached). */
export function astralClass(cp: number): CharClass {
  let k = astral.get(cp);
  if (k === undefined) astral.set(cp, (k = classify(cp)));
  return k;
}

export interface BasicOptions {
  /** Lowercase each word (Python str.lower()). */
  lowercase?: boolean;
  /** NFD-normalise and drop combining marks (category Mn). Splits Hangul into jamo. */
  stripAccents?: boolean;
  /** Make each CJK ideograph a word of its own (BERT's default; false keeps them inside words). */
  tokenizeChineseChars?: boolean;
}

/** Applies the optional case and accent rules to one whitespace-delimited word. */
export function normaliseWord(w: string, o: BasicOptions): string {
  if (o.lowercase) w = w.toLowerCase();
  if (o.stripAccents) w = w.normalize('NFD').replace(/\p{Mn}/gu, '');
  return w;
}

/**
 * BasicTokenizer.tokenize: clean, space around CJK, split on whitespace, optional lowercase and
 * accent stripping per word, split on punctuation. Returns the pre-tokens as strings.
 */
export function basicTokenize(text: string, o: BasicOptions = {}): string[] {
  // Clean + CJK spacing + whitespace split.
  const words: string[] = [];
  let cur = '';
  const push = (): void => {
    if (cur !== '') words.push(cur);
    cur = '';
  };
  for (const ch of text) {
    const k = classify(ch.codePointAt(0)!);
    if (k === CharClass.Drop) continue;
    if (k === CharClass.Space) push();
    else if (k === CharClass.Cjk && o.tokenizeChineseChars !== false) {
      push();
      words.push(ch);
    } else cur += ch;
  }
  push();
  // Case/accents, then punctuation split (punctuation after normalisation, as BERT does).
  const out: string[] = [];
  for (const w0 of words) {
    const w = o.lowercase || o.stripAccents ? normaliseWord(w0, o) : w0;
    let piece = '';
    for (const ch of w) {
      const k = classify(ch.codePointAt(0)!);
      if (k === CharClass.Punct) {
        if (piece !== '') out.push(piece);
        out.push(ch);
        piece = '';
      } else if (k === CharClass.Space) {
        if (piece !== '') out.push(piece);
        piece = '';
      } else piece += ch;
    }
    if (piece !== '') out.push(piece);
  }
  return out;
}
