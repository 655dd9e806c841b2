/** Scoring saved models: evaluate (loss, accuracy, per-class precision/recall/F1) and predict. */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EncodedSplit } from '../core/encoded';
import { UserError } from '../core/errors';
import type { EvalResult, Prediction, TrainHooks } from './types';
import { activationBudgetMiB } from './memory';
import { ensureBackend } from './backend';
import { BertClassifier } from './model';
import { checkSplit, truncateSplit } from './data';
import { initialiseMissing, mapCheckpoint, readModelFolder, type ModelMeta } from './weights';
import { scoreRows } from './score';

export interface SavedModelInfo {
  labels: string[];
  maxLen: number;
  numLabels: number;
  vocabPath?: string;
  vocabSize: number;
}

/** Labels, max_len and vocab of a saved model folder, without loading its weights. */
export function readModelInfo(modelDir: string): SavedModelInfo {
  const dir = resolve(modelDir);
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new UserError(`${dir}: not a model folder (no config.json)`, 'E_NOT_FOUND');
  const metaPath = join(dir, 'trialbook.json');
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${cfgPath}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
  }
  let meta: Partial<ModelMeta> = {};
  if (existsSync(metaPath)) {
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch (e) {
      throw new UserError(`${metaPath}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
    }
  }
  const id2label = cfg.id2label as Record<string, string> | undefined;
  const labels = meta.labels ?? (id2label ? Object.keys(id2label).sort((a, b) => +a - +b).map((k) => id2label[k]) : undefined);
  if (!labels || labels.length < 2) throw new UserError(`${dir}: no label names (trialbook.json "labels" or config.json "id2label"); was this model saved by trialbook train?`, 'E_CONFIG');
  const vocabPath = existsSync(join(dir, 'vocab.txt')) ? join(dir, 'vocab.txt') : undefined;
  return { labels, maxLen: meta.maxLen ?? Number(cfg.max_position_embeddings ?? 512), numLabels: labels.length, vocabPath, vocabSize: Number(cfg.vocab_size) };
}

/** Loads a saved classifier; its head must match its labels exactly (a missing pooler is initialised, with a warning, as Hugging Face does). */
export function loadClassifier(modelDir: string, log?: TrainHooks['onLog']): { model: BertClassifier; info: SavedModelInfo } {
  const info = readModelInfo(modelDir);
  const mf = readModelFolder(resolve(modelDir));
  for (const note of mf.notes) log?.('info', note);
  const loaded = mapCheckpoint(mf.weights.file, mf.weights.tensors, mf.config, info.numLabels, false);
  initialiseMissing(mf.weights.file, loaded, mf.config, info.numLabels, 0, log);
  return { model: new BertClassifier(mf.config, info.numLabels, loaded.values), info };
}

export interface ScoringOptions {
  /** Activation budget, MiB (capped on wasm; see memory.ts). */
  memoryBudgetMiB?: number;
  onLog?: TrainHooks['onLog'];
}

async function probsFor(modelDir: string, split: EncodedSplit, labelled: boolean, o: ScoringOptions): Promise<{ probs: Float32Array; info: SavedModelInfo; split: EncodedSplit }> {
  const backend = await ensureBackend();
  const { model, info } = loadClassifier(modelDir, o.onLog);
  try {
    // Score at the length the model was trained with (never past its position table).
    const s = truncateSplit(split, Math.min(info.maxLen, model.config.max_position_embeddings));
    checkSplit('input', labelled ? s : { ...s, labels: s.labels.map(() => 0) }, model.config.vocab_size, info.numLabels, model.config.max_position_embeddings);
    return { probs: scoreRows(model, s, { budgetMiB: activationBudgetMiB(backend.name, model.config, o.memoryBudgetMiB), log: o.onLog }), info, split: s };
  } finally {
    model.dispose();
  }
}

export async function evaluateModel(modelDir: string, split: EncodedSplit, o: ScoringOptions = {}): Promise<EvalResult> {
  const { probs, info } = await probsFor(modelDir, split, true, o);
  const C = info.numLabels;
  const tp = new Array(C).fill(0);
  const fp = new Array(C).fill(0);
  const support = new Array(C).fill(0);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < split.count; i++) {
    const row = probs.subarray(i * C, (i + 1) * C);
    const y = split.labels[i];
    let pred = 0;
    for (let j = 1; j < C; j++) if (row[j] > row[pred]) pred = j;
    loss -= Math.log(Math.max(row[y], 1e-12));
    support[y]++;
    if (pred === y) {
      correct++;
      tp[y]++;
    } else fp[pred]++;
  }
  const perClass = info.labels.map((label, c) => {
    const precision = tp[c] + fp[c] ? tp[c] / (tp[c] + fp[c]) : 0;
    const recall = support[c] ? tp[c] / support[c] : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: support[c] };
  });
  return { loss: loss / split.count, accuracy: correct / split.count, count: split.count, perClass };
}

export async function predictModel(modelDir: string, split: EncodedSplit, o: ScoringOptions = {}): Promise<Prediction[]> {
  const { probs, info } = await probsFor(modelDir, split, false, o);
  const C = info.numLabels;
  const out: Prediction[] = [];
  for (let i = 0; i < split.count; i++) {
    const row = Array.from(probs.subarray(i * C, (i + 1) * C));
    let label = 0;
    for (let j = 1; j < C; j++) if (row[j] > row[label]) label = j;
    out.push({ label, probs: row });
  }
  return out;
}
