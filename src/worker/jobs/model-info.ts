/** What evaluate/predict need to know about a saved model folder before scoring with it. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { readConfig } from '../../engine/config';
import type { BertConfig } from '../../engine/types';

export interface ModelInfo {
  dir: string;
  config: BertConfig;
  /** Label names by id (trialbook.json, else config.json id2label). */
  labels: string[];
  /** max_len the model was trained with, if it was saved by Trialbook. */
  maxLen?: number;
  vocabPath: string;
  /** From tokenizer_config.json (do_lower_case, strip_accents); cased when absent, like KR-BERT. */
  tokenizer: { lowercase: boolean; stripAccents: boolean };
}

export const TOKENIZER_CONFIG = 'tokenizer_config.json';

/** Hugging Face's tokenizer_config.json for a BERT WordPiece tokenizer with these flags. */
export function tokenizerConfig(o: { lowercase: boolean; stripAccents: boolean; maxLen: number }): string {
  const c = { tokenizer_class: 'BertTokenizer', do_lower_case: o.lowercase, strip_accents: o.stripAccents, tokenize_chinese_chars: true, model_max_length: o.maxLen };
  return `${JSON.stringify(c, null, 2)}\n`;
}

export function readModelInfo(dirArg: string): ModelInfo {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new UserError(`${dir}: model folder not found`, 'E_NOT_FOUND');
  const config = readConfig(dir);
  const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { id2label?: Record<string, string> };
  let labels: string[] | undefined;
  let maxLen: number | undefined;
  const metaPath = join(dir, 'trialbook.json');
  if (existsSync(metaPath)) {
    try {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { labels?: unknown; maxLen?: unknown };
      if (Array.isArray(meta.labels)) labels = meta.labels.map(String);
      if (typeof meta.maxLen === 'number') maxLen = meta.maxLen;
    } catch (e) {
      throw new UserError(`${metaPath}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
    }
  }
  if (!labels && raw.id2label) {
    const ids = Object.keys(raw.id2label).map(Number).sort((a, b) => a - b);
    labels = ids.map((i) => String(raw.id2label![String(i)]));
  }
  if (!labels?.length) throw new UserError(`${dir}: no label names (neither trialbook.json "labels" nor config.json "id2label")`, 'E_CONFIG');
  const vocabPath = join(dir, 'vocab.txt');
  if (!existsSync(vocabPath)) throw new UserError(`${vocabPath}: not found; the model folder needs the vocab.txt it was trained with`, 'E_NOT_FOUND');
  const tokenizer = { lowercase: false, stripAccents: false };
  const tcPath = join(dir, TOKENIZER_CONFIG);
  if (existsSync(tcPath)) {
    try {
      const tc = JSON.parse(readFileSync(tcPath, 'utf8')) as { do_lower_case?: unknown; strip_accents?: unknown };
      tokenizer.lowercase = tc.do_lower_case === true;
      tokenizer.stripAccents = tc.strip_accents === true;
    } catch (e) {
      throw new UserError(`${tcPath}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
    }
  }
  return { dir, config, labels, maxLen, vocabPath, tokenizer };
}

/** max_len for scoring: asked for, else the training one, else what the model allows up to 128. */
export function scoringMaxLen(info: ModelInfo, asked: number | undefined): number {
  const cap = info.config.max_position_embeddings;
  const m = asked ?? info.maxLen ?? Math.min(cap, 128);
  if (m > cap) throw new UserError(`--max-len ${m} is above the model's max_position_embeddings ${cap}`, 'E_MAXLEN');
  return m;
}
