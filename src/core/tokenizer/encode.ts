/**
 * Model inputs for single sentences: [CLS] + wordpieces cut to maxLen-2 + [SEP], then [PAD] up
 * to maxLen, for many texts at once into one row-major Int32Array (the EncodedSplit layout).
 */
import { UserError } from '../errors';
import type { Vocab } from './vocab';
import { MAX_INPUT_CHARS_PER_WORD, WordPieceTokenizer, type WordPieceOptions } from './wordpiece';

export const MIN_MAX_LEN = 3;
export const MAX_MAX_LEN = 512;

/** Checks max_len; `field` names where it came from (an option, a study key). */
export function checkMaxLen(maxLen: number, field = 'max_len'): number {
  if (!Number.isInteger(maxLen) || maxLen < MIN_MAX_LEN || maxLen > MAX_MAX_LEN) {
    throw new UserError(`${field}: ${maxLen} is out of range; it must be a whole number from ${MIN_MAX_LEN} ([CLS], one token, [SEP]) to ${MAX_MAX_LEN} (BERT's position limit)`, 'E_USAGE');
  }
  return maxLen;
}

export interface EncodedTexts {
  maxLen: number;
  count: number;
  /** count × maxLen ids. */
  ids: Int32Array;
  /** Non-pad ids per row ([CLS] and [SEP] included). */
  lengths: Uint16Array;
  /** Rows whose wordpieces did not fit. */
  truncated: number;
}

export class Tokenizer {
  readonly wordpiece: WordPieceTokenizer;
  constructor(readonly vocab: Vocab, readonly options: WordPieceOptions = {}) {
    this.wordpiece = new WordPieceTokenizer(vocab, options);
  }

  /** Writes one padded row at out[off .. off+maxLen); returns the non-pad count, negated when the text was cut. */
  encodeRow(text: string, maxLen: number, out: Int32Array, off: number): number {
    const v = this.vocab;
    const room = maxLen - 2;
    out[off] = v.cls;
    const n = this.wordpiece.encodeInto(text, out, off + 1, room, true);
    const kept = n < room ? n : room;
    out[off + 1 + kept] = v.sep;
    const used = kept + 2;
    if (used < maxLen) out.fill(v.pad, off + used, off + maxLen);
    return n > room ? -used : used;
  }

  /** One padded row as an array. */
  encode(text: string, maxLen: number): { ids: number[]; n: number } {
    checkMaxLen(maxLen);
    const row = new Int32Array(maxLen);
    const r = this.encodeRow(text, maxLen, row, 0);
    return { ids: Array.from(row), n: Math.abs(r) };
  }

  /** All texts as padded rows. */
  encodeBatch(texts: readonly string[], maxLen: number): EncodedTexts {
    checkMaxLen(maxLen);
    const count = texts.length;
    const ids = new Int32Array(count * maxLen);
    const lengths = new Uint16Array(count);
    let truncated = 0;
    for (let i = 0; i < count; i++) {
      const r = this.encodeRow(texts[i], maxLen, ids, i * maxLen);
      if (r < 0) truncated++;
      lengths[i] = r < 0 ? -r : r;
    }
    return { maxLen, count, ids, lengths, truncated };
  }

  /** Untruncated length with [CLS] and [SEP]. */
  length(text: string): number {
    return this.wordpiece.count(text) + 2;
  }
}

export function createTokenizer(vocab: Vocab, options: WordPieceOptions = {}): Tokenizer {
  return new Tokenizer(vocab, options);
}

/**
 * A Hugging Face `tokenizer.json` with the same rules (BertNormalizer without lowercasing or
 * accent stripping unless asked, BertPreTokenizer, WordPiece, [CLS] $A [SEP]), for use in other
 * tools. Hugging Face tokenizers also match special tokens written in the text (e.g. a literal
 * "[CLS]"), which BERT's Python tokenizer splits as punctuation.
 */
export function toHuggingFaceTokenizerJson(vocab: Vocab, o: { lowercase?: boolean; stripAccents?: boolean } = {}): Record<string, unknown> {
  const vocabObj: Record<string, number> = {};
  for (const [t, id] of vocab.ids) vocabObj[t] = id; // a repeated token keeps its last id, as in BERT
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => vocab.ids.has(t));
  const special = (t: string): Record<string, unknown> => ({ id: t, ids: [vocab.ids.get(t)], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({
      id: vocab.ids.get(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: !!o.stripAccents, lowercase: !!o.lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: vocabObj,
    },
  };
}
