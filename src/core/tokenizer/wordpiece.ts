/**
 * The fast path: BERT's BasicTokenizer and WordpieceTokenizer fused into one pass over the
 * UTF-16 code units of a text, writing ids straight into an Int32Array. Words are gathered into
 * a reusable code-unit buffer (clean-up can join pieces of the original text), and greedy
 * longest-match-first runs on a trie of the vocab, so no per-word or per-char strings exist.
 */
import { astralClass, bmpClasses, CharClass, normaliseWord, type BasicOptions } from './basic';
import type { Vocab } from './vocab';

/** BERT's WordpieceTokenizer default: longer words (in code points) become [UNK]. */
export const MAX_INPUT_CHARS_PER_WORD = 200;

const NONE = -1;

/**
 * Trie over UTF-16 code units of every vocab token. The root and the node for "##" (where
 * continuation pieces start) have direct 64K-entry child tables; deeper edges sit in one Map
 * keyed by node * 65536 + code unit, and nodes without children are skipped by a flag.
 */
class VocabTrie {
  readonly rootKids = new Int32Array(65536).fill(NONE);
  readonly contKids = new Int32Array(65536).fill(NONE);
  /** Node of the "##" prefix, or NONE when no token starts with it. */
  cont = NONE;
  tokenId: Int32Array;
  hasKids: Uint8Array;
  readonly edges = new Map<number, number>();

  constructor(tokens: readonly string[], ids: ReadonlyMap<string, number>) {
    const tokenOf: number[] = [NONE];
    const kids: boolean[] = [false];
    const child = (node: number, c: number, create: boolean): number => {
      const key = node * 65536 + c;
      let next = this.edges.get(key);
      if (next === undefined) {
        if (!create) return NONE;
        next = tokenOf.length;
        tokenOf.push(NONE);
        kids.push(false);
        this.edges.set(key, next);
        kids[node] = true;
      }
      return next;
    };
    for (const t of tokens) {
      if (t === '') continue;
      let node = 0;
      for (let i = 0; i < t.length; i++) node = child(node, t.charCodeAt(i), true);
      tokenOf[node] = ids.get(t)!; // a repeated token keeps its last id, as BERT's load_vocab does
    }
    const hash = child(0, 35, false); // '#'
    this.cont = hash === NONE ? NONE : child(hash, 35, false);
    this.tokenId = Int32Array.from(tokenOf);
    this.hasKids = Uint8Array.from(kids, (k) => (k ? 1 : 0));
    // Move the root's and "##"'s edges into direct tables.
    for (const [key, next] of this.edges) {
      const node = Math.floor(key / 65536);
      const c = key % 65536;
      if (node === 0) this.rootKids[c] = next;
      if (node === this.cont) this.contKids[c] = next;
    }
  }
}

export interface WordPieceOptions extends BasicOptions {
  maxInputCharsPerWord?: number;
}

export class WordPieceTokenizer {
  readonly vocab: Vocab;
  private readonly trie: VocabTrie;
  private readonly classes: Uint8Array;
  private readonly normalise: boolean;
  private readonly opts: WordPieceOptions;
  private readonly maxChars: number;
  /** tokenizeChineseChars off: CJK ideographs are word characters. */
  private readonly cjkInWords: boolean;
  private buf = new Uint16Array(1024);
  private wordLen = 0;
  private wordChars = 0;

  constructor(vocab: Vocab, opts: WordPieceOptions = {}) {
    this.vocab = vocab;
    this.opts = opts;
    this.normalise = !!(opts.lowercase || opts.stripAccents);
    this.maxChars = opts.maxInputCharsPerWord ?? MAX_INPUT_CHARS_PER_WORD;
    this.cjkInWords = opts.tokenizeChineseChars === false;
    this.trie = new VocabTrie(vocab.tokens, vocab.ids);
    this.classes = bmpClasses();
  }

  /**
   * Wordpiece ids of `text` (no [CLS]/[SEP]) written to out[off .. off+limit). Returns the full
   * number of pieces, or — with `stop` — stops before the next word once `limit` pieces exist
   * and then returns a count > limit when more pieces would follow (enough to know it was cut).
   */
  encodeInto(text: string, out: Int32Array, off: number, limit: number, stop = false): number {
    const cls = this.classes;
    let n = 0;
    this.wordLen = 0;
    this.wordChars = 0;
    const len = text.length;
    for (let i = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      let k = cls[c];
      if (k === CharClass.Cjk && this.cjkInWords) k = CharClass.Word;
      if (k === CharClass.Word) {
        this.pushUnit(c);
        this.wordChars++;
        continue;
      }
      let c2 = -1;
      if (k === CharClass.High) {
        const lo = i + 1 < len ? text.charCodeAt(i + 1) : 0;
        if ((lo & 0xfc00) !== 0xdc00) continue; // lone high surrogate: dropped
        c2 = lo;
        i++;
        k = astralClass(((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000);
        if (k === CharClass.Cjk && this.cjkInWords) k = CharClass.Word;
        if (k === CharClass.Word) {
          this.pushUnit(c);
          this.pushUnit(c2);
          this.wordChars++;
          continue;
        }
      }
      if (k === CharClass.Drop) continue;
      if (k === CharClass.Punct && this.normalise) {
        // With case/accent rules, punctuation splits after normalising the whole word.
        this.pushUnit(c);
        if (c2 >= 0) this.pushUnit(c2);
        this.wordChars++;
        continue;
      }
      if (this.wordLen > 0) {
        if (stop && n >= limit) return n + 1;
        n = this.flush(out, off, n, limit);
      }
      if (k === CharClass.Space) continue;
      // Punctuation or CJK: a word of its own.
      if (stop && n >= limit) return n + 1;
      this.pushUnit(c);
      if (c2 >= 0) this.pushUnit(c2);
      this.wordChars = 1;
      n = this.flush(out, off, n, limit);
    }
    if (this.wordLen > 0) {
      if (stop && n >= limit) return n + 1;
      n = this.flush(out, off, n, limit);
    }
    return n;
  }

  /** Number of wordpieces of `text`. */
  count(text: string): number {
    return this.encodeInto(text, EMPTY, 0, 0);
  }

  /** Wordpiece ids of `text` as an array (convenience; the batch paths use encodeInto). */
  encode(text: string): number[] {
    let out = new Int32Array(Math.max(16, text.length * 2));
    let n = this.encodeInto(text, out, 0, out.length);
    if (n > out.length) {
      out = new Int32Array(n);
      n = this.encodeInto(text, out, 0, n);
    }
    return Array.from(out.subarray(0, n));
  }

  private pushUnit(c: number): void {
    if (this.wordLen === this.buf.length) {
      const b = new Uint16Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.wordLen++] = c;
  }

  private flush(out: Int32Array, off: number, n: number, limit: number): number {
    const len = this.wordLen;
    const chars = this.wordChars;
    this.wordLen = 0;
    this.wordChars = 0;
    if (this.normalise) return this.flushNormalised(out, off, n, limit, len);
    return this.pieces(this.buf, 0, len, chars, out, off, n, limit);
  }

  /** Slow path for lowercase / strip-accents: normalise the word as a string, then split on punctuation. */
  private flushNormalised(out: Int32Array, off: number, n: number, limit: number, len: number): number {
    const word = normaliseWord(String.fromCharCode(...this.buf.subarray(0, len)), this.opts);
    const units = new Uint16Array(word.length);
    for (let i = 0; i < word.length; i++) units[i] = word.charCodeAt(i);
    let start = 0;
    let chars = 0;
    for (let i = 0; i < units.length; ) {
      const cp = word.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      const k = cp > 0xffff ? astralClass(cp) : this.classes[cp];
      if (k === CharClass.Punct || k === CharClass.Space) {
        if (i > start) n = this.pieces(units, start, i, chars, out, off, n, limit);
        if (k === CharClass.Punct) n = this.pieces(units, i, i + w, 1, out, off, n, limit);
        start = i + w;
        chars = 0;
      } else chars++;
      i += w;
    }
    if (units.length > start) n = this.pieces(units, start, units.length, chars, out, off, n, limit);
    return n;
  }

  /** WordPiece on units[from, to): greedy longest match first; one [UNK] if any part fails. */
  private pieces(units: Uint16Array, from: number, to: number, chars: number, out: Int32Array, off: number, n: number, limit: number): number {
    const unk = this.vocab.unk;
    if (chars > this.maxChars) {
      if (n < limit) out[off + n] = unk;
      return n + 1;
    }
    const t = this.trie;
    const tokenId = t.tokenId;
    const first = n;
    let start = from;
    while (start < to) {
      let node = start === from ? 0 : t.cont;
      let bestEnd = -1;
      let bestId = NONE;
      let k = start;
      if (node !== NONE) {
        while (k < to) {
          const c = units[k];
          if (node === 0) node = t.rootKids[c];
          else if (node === t.cont) node = t.contKids[c];
          else if (t.hasKids[node] === 0) break;
          else {
            const next = t.edges.get(node * 65536 + c);
            node = next === undefined ? NONE : next;
          }
          if (node === NONE) break;
          k++;
          // A match must end on a code-point boundary (never between a surrogate pair).
          if (tokenId[node] !== NONE && (k === to || (units[k] & 0xfc00) !== 0xdc00)) {
            bestEnd = k;
            bestId = tokenId[node];
          }
        }
      }
      if (bestEnd < 0) {
        if (first < limit) out[off + first] = unk;
        return first + 1;
      }
      if (n < limit) out[off + n] = bestId;
      n++;
      start = bestEnd;
    }
    return n;
  }
}

const EMPTY = new Int32Array(0);
