/**
 * A model folder's `tokenizer_config.json`, read as Hugging Face's BertTokenizer reads it:
 * do_lower_case (default true), strip_accents (absent or null: follows do_lower_case),
 * tokenize_chinese_chars (default true) and model_max_length (HF writes a huge number for
 * "no limit"). Without the file Trialbook assumes a cased tokenizer, as KR-BERT's is, and says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import type { BasicOptions } from './basic';

export const TOKENIZER_CONFIG = 'tokenizer_config.json';

export interface ModelTokenizer {
  flags: Required<BasicOptions>;
  /** The tokenizer's max_len, when the file sets a real one. */
  modelMaxLength?: number;
  /** How the flags were decided, in one line for the user. */
  source: string;
}

/** Above this a model_max_length is HF's "unset" sentinel (int(1e30)), not a length. */
const UNSET_MAX_LENGTH = 1e6;

export function readTokenizerConfig(dir: string): ModelTokenizer {
  const file = join(dir, TOKENIZER_CONFIG);
  if (!existsSync(file)) {
    return {
      flags: { lowercase: false, stripAccents: false, tokenizeChineseChars: true },
      source: `${dir}: no ${TOKENIZER_CONFIG}; assumed a cased tokenizer (no lowercasing, no accent stripping, as KR-BERT's). Hugging Face's BertTokenizer would lowercase here: add ${TOKENIZER_CONFIG} with "do_lower_case" to say which`,
    };
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
  }
  const flag = (key: string, fallback: boolean): boolean => {
    const v = raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new UserError(`${file}: "${key}" must be true, false or null (got ${JSON.stringify(v)})`, 'E_CONFIG');
    return v;
  };
  const lowercase = flag('do_lower_case', true);
  const flags = { lowercase, stripAccents: flag('strip_accents', lowercase), tokenizeChineseChars: flag('tokenize_chinese_chars', true) };
  const m = raw.model_max_length;
  const modelMaxLength = typeof m === 'number' && Number.isInteger(m) && m > 0 && m < UNSET_MAX_LENGTH ? m : undefined;
  const said = `${flags.lowercase ? 'lowercase' : 'cased'}${flags.stripAccents ? ', accents stripped' : ''}${flags.tokenizeChineseChars ? '' : ', CJK characters not split'}`;
  return { flags, modelMaxLength, source: `${file}: ${said}` };
}

/** The tokenizer_config.json Hugging Face writes for a BERT WordPiece tokenizer with these flags (strip_accents explicit). */
export function tokenizerConfigJson(o: { lowercase: boolean; stripAccents: boolean; maxLen: number }): string {
  const c = { tokenizer_class: 'BertTokenizer', do_lower_case: o.lowercase, strip_accents: o.stripAccents, tokenize_chinese_chars: true, model_max_length: o.maxLen };
  return `${JSON.stringify(c, null, 2)}\n`;
}
