/** What evaluate/predict need to know about a saved model folder before scoring with it. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { readConfig } from '../../engine/config';
import { readTokenizerConfig, type ModelTokenizer } from '../../core/tokenizer';
import type { BertConfig } from '../../engine/types';

export interface ModelInfo {
  dir: string;
  config: BertConfig;
  /** Label names by id (trialbook.json, else config.json id2label). */
  labels: string[];
  /** max_len the model was trained with, if it was saved by Trialbook. */
  maxLen?: number;
  vocabPath: string;
  /** From tokenizer_config.json with Hugging Face's semantics; cased when absent, like KR-BERT (tokenizer.source says which). */
  tokenizer: ModelTokenizer;
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
  const tokenizer = readTokenizerConfig(dir);
  return { dir, config, labels, maxLen, vocabPath, tokenizer };
}

/** max_len for scoring: asked for, else the training one, else the tokenizer's model_max_length, else what the model allows up to 128. */
export function scoringMaxLen(info: ModelInfo, asked: number | undefined): number {
  const cap = info.config.max_position_embeddings;
  const m = asked ?? info.maxLen ?? (info.tokenizer.modelMaxLength !== undefined ? Math.min(cap, info.tokenizer.modelMaxLength) : Math.min(cap, 128));
  if (m > cap) throw new UserError(`--max-len ${m} is above the model's max_position_embeddings ${cap}`, 'E_MAXLEN');
  return m;
}
