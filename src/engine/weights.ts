/**
 * Model folders in Hugging Face layout: config.json + model.safetensors (+ vocab.txt), plus
 * trialbook.json (labels, max_len) for models Trialbook saved. Tensor names follow HF's
 * BertForSequenceClassification; Linear weights are [out,in] on disk, [in,out] in memory.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { writeFileAtomic } from '../core/fsutil';
import type { BertConfig } from './types';
import { Rng } from '../core/rng';
import { initValues, paramSpecs, type ParamSpec } from './model';
import { writeSafetensors, type NamedTensor } from './safetensors';
import { readWeightFiles, type WeightFiles } from './weight-files';
import { countVocab, readConfig } from './config';

export const WEIGHTS_FILE = 'model.safetensors';
export const META_FILE = 'trialbook.json';

export interface ModelMeta {
  labels: string[];
  maxLen: number;
  numLabels: number;
  format: 'trialbook-bert-classifier/1';
}

/** A row-major [rows, cols] matrix as [cols, rows] (HF Linear weights are [out, in]). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** HF spelling of a stored tensor name → ours (older TF-converted files use gamma/beta, BertModel drops "bert."). */
function canonicalName(name: string): string {
  let n = name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
  if (n.startsWith('embeddings.') || n.startsWith('encoder.') || n.startsWith('pooler.')) n = `bert.${n}`;
  return n;
}

/** Tensors a BERT checkpoint may carry that a classifier does not use (pre-training heads, buffers). */
function ignorable(name: string): boolean {
  return name.startsWith('cls.') || name.endsWith('position_ids') || name.startsWith('bert.embeddings.position_ids');
}

export interface LoadedWeights {
  values: Map<string, Float32Array>;
  /** The head was absent or sized for another label count: the caller initialises it. */
  headMissing: boolean;
  /** The checkpoint has no pooler (saved from a BertModel without one): the caller initialises it, as Hugging Face does. */
  poolerMissing: boolean;
}

const POOLER = ['bert.pooler.dense.weight', 'bert.pooler.dense.bias'];

/**
 * Maps a safetensors file onto the model's parameters. Missing body tensors, wrong shapes and
 * unknown tensors are collected and reported together in one error.
 * `allowNewHead`: when training from a pretrained body, the classifier may be absent or have
 * another label count; a saved classifier (evaluate/predict) must match exactly.
 */
export function mapCheckpoint(file: string, tensors: Map<string, NamedTensor>, config: BertConfig, numLabels: number, allowNewHead: boolean): LoadedWeights {
  const specs = new Map<string, ParamSpec>(paramSpecs(config, numLabels).map((s) => [s.name, s]));
  const values = new Map<string, Float32Array>();
  const unexpected: string[] = [];
  const wrong: string[] = [];
  let headWrong = false;
  for (const [raw, t] of tensors) {
    const name = canonicalName(raw);
    const spec = specs.get(name);
    if (!spec) {
      if (!ignorable(name)) unexpected.push(raw);
      continue;
    }
    const want = spec.kernel ? [spec.shape[1], spec.shape[0]] : spec.shape;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      if (spec.head && allowNewHead) {
        headWrong = true;
        continue;
      }
      wrong.push(`${raw} has shape [${t.shape}], expected [${want}]`);
      continue;
    }
    values.set(name, spec.kernel ? transpose2d(t.data, want[0], want[1]) : t.data);
  }
  const poolerMissing = POOLER.every((n) => !values.has(n));
  const missing = [...specs.values()].filter((s) => !values.has(s.name) && !(s.head && allowNewHead) && !(poolerMissing && POOLER.includes(s.name))).map((s) => s.name);
  if (missing.length || wrong.length || unexpected.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing tensors: ${missing.join(', ')}`);
    if (wrong.length) parts.push(`wrong shapes: ${wrong.join('; ')}`);
    if (unexpected.length) parts.push(`unexpected tensors: ${unexpected.join(', ')}`);
    throw new UserError(`${file}: does not match its config.json (${config.num_hidden_layers} layers, hidden ${config.hidden_size}, vocab ${config.vocab_size}): ${parts.join('; ')}`, 'E_CHECKPOINT');
  }
  const headMissing = headWrong || !values.has('classifier.weight') || !values.has('classifier.bias');
  if (headMissing) {
    values.delete('classifier.weight');
    values.delete('classifier.bias');
  }
  return { values, headMissing, poolerMissing };
}

/**
 * Seeded initial values (model.ts initValues, in parameter order) for what the checkpoint lacked:
 * the pooler of a checkpoint without one, and a missing head. Logs which, with the reason.
 */
export function initialiseMissing(file: string, loaded: LoadedWeights, config: BertConfig, numLabels: number, seed: number, log: ((level: 'info' | 'warn', text: string) => void) | undefined): void {
  if (loaded.poolerMissing) log?.('warn', `${file}: no pooler (bert.pooler.dense) in the checkpoint; initialising a new one, as Hugging Face does — it is untrained until fine-tuning trains it (freeze_body keeps it as initialised)`);
  if (loaded.headMissing) log?.('info', `${file}: no classifier for ${numLabels} labels; initialising a new head`);
  const rng = new Rng(seed);
  for (const spec of paramSpecs(config, numLabels)) if (!loaded.values.has(spec.name)) loaded.values.set(spec.name, initValues(spec, rng));
}

export interface ModelFolder {
  dir: string;
  config: BertConfig;
  meta?: ModelMeta;
  vocabPath?: string;
  weights: WeightFiles;
  /** What the caller should tell the user about how the folder was read. */
  notes: string[];
}

/** Reads config.json, the weights (weight-files.ts) and (if present) vocab.txt and trialbook.json. */
export function readModelFolder(dir: string): ModelFolder {
  if (!existsSync(dir)) throw new UserError(`${dir}: model folder not found`, 'E_NOT_FOUND');
  const config = readConfig(dir);
  const notes: string[] = [];
  const vocabPath = existsSync(join(dir, 'vocab.txt')) ? join(dir, 'vocab.txt') : undefined;
  if (vocabPath) {
    const n = countVocab(vocabPath);
    if (n > config.vocab_size) throw new UserError(`${vocabPath}: has ${n} tokens but ${join(dir, 'config.json')} says vocab_size ${config.vocab_size}; use the vocab.txt the model was trained with`, 'E_VOCAB');
    // Hugging Face pads the embedding matrix (e.g. to a multiple of 8); the rows past the vocab are never looked up.
    if (n < config.vocab_size) notes.push(`${vocabPath}: ${n} tokens for vocab_size ${config.vocab_size} in config.json; the embedding's last ${config.vocab_size - n} rows are padding no token uses (as in Hugging Face)`);
  }
  let meta: ModelMeta | undefined;
  const metaPath = join(dir, META_FILE);
  if (existsSync(metaPath)) {
    try {
      meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ModelMeta;
    } catch (e) {
      throw new UserError(`${metaPath}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
    }
    if (!Array.isArray(meta.labels) || typeof meta.maxLen !== 'number') throw new UserError(`${metaPath}: needs "labels" (array) and "maxLen" (number)`, 'E_CONFIG');
  }
  return { dir, config, meta, vocabPath, weights: readWeightFiles(dir), notes };
}

/** Writes a model folder HF tools can read; each file atomically, weights last-but-one, meta last. */
export function saveModelFolder(dir: string, config: BertConfig, values: Map<string, Float32Array>, numLabels: number, meta: Omit<ModelMeta, 'format' | 'numLabels'>, vocabPath?: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`${dir}: cannot create the model folder (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_IO');
  }
  const tensors = new Map<string, NamedTensor>();
  for (const spec of paramSpecs(config, numLabels)) {
    const v = values.get(spec.name);
    if (!v) throw new Error(`engine: no value for ${spec.name} while saving`);
    if (spec.kernel) tensors.set(spec.name, { shape: [spec.shape[1], spec.shape[0]], data: transpose2d(v, spec.shape[0], spec.shape[1]) });
    else tensors.set(spec.name, { shape: spec.shape, data: v });
  }
  const hfConfig = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    ...config,
    num_labels: numLabels,
    id2label: Object.fromEntries(meta.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(meta.labels.map((l, i) => [l, i])),
  };
  writeSafetensors(join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
  if (vocabPath && existsSync(vocabPath)) writeFileAtomic(join(dir, 'vocab.txt'), readFileSync(vocabPath));
  const full: ModelMeta = { format: 'trialbook-bert-classifier/1', labels: meta.labels, maxLen: meta.maxLen, numLabels };
  writeFileAtomic(join(dir, META_FILE), JSON.stringify(full, null, 2) + '\n');
}

