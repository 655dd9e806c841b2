/** BERT configs: presets for training from scratch, and checks on config.json files. */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors';
import type { BertConfig } from './types';

export const PRESETS: Record<string, Omit<BertConfig, 'vocab_size'>> = {
  tiny: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 },
  mini: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 },
  small: { hidden_size: 512, num_hidden_layers: 4, num_attention_heads: 8, intermediate_size: 2048, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 },
};

export function isPreset(model: string): boolean {
  return Object.prototype.hasOwnProperty.call(PRESETS, model);
}

export function presetConfig(name: string, vocabSize: number): BertConfig {
  return { ...PRESETS[name], vocab_size: vocabSize, layer_norm_eps: 1e-12, hidden_act: 'gelu' };
}

/** hidden_act values computed as Hugging Face computes them (ops.ts activation). */
const ACTIVATIONS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

const INT_FIELDS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const;

/** Validates a parsed config.json; `where` names the file in messages. */
export function checkConfig(raw: unknown, where: string): BertConfig {
  if (!raw || typeof raw !== 'object') throw new UserError(`${where}: expected a JSON object`, 'E_CONFIG');
  const c = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const f of INT_FIELDS) {
    const v = c[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) problems.push(`${f} must be a positive integer (got ${JSON.stringify(v)})`);
  }
  if (problems.length === 0 && (c.hidden_size as number) % (c.num_attention_heads as number) !== 0) problems.push(`hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
  const act = c.hidden_act ?? 'gelu';
  if (typeof act !== 'string' || !ACTIVATIONS.includes(act)) problems.push(`hidden_act ${JSON.stringify(act)} is not supported (${ACTIVATIONS.join(', ')})`);
  const id2label = c.id2label;
  if (typeof c.num_labels === 'number' && id2label && typeof id2label === 'object' && Object.keys(id2label).length !== c.num_labels) {
    problems.push(`num_labels is ${c.num_labels} but id2label names ${Object.keys(id2label).length} labels; make them agree`);
  }
  if (problems.length) throw new UserError(`${where}: ${problems.join('; ')}`, 'E_CONFIG');
  const prob = (v: unknown) => (typeof v === 'number' && v >= 0 && v < 1 ? v : 0.1);
  return {
    vocab_size: c.vocab_size as number,
    hidden_size: c.hidden_size as number,
    num_hidden_layers: c.num_hidden_layers as number,
    num_attention_heads: c.num_attention_heads as number,
    intermediate_size: c.intermediate_size as number,
    max_position_embeddings: c.max_position_embeddings as number,
    type_vocab_size: c.type_vocab_size as number,
    hidden_dropout_prob: prob(c.hidden_dropout_prob),
    attention_probs_dropout_prob: prob(c.attention_probs_dropout_prob),
    layer_norm_eps: typeof c.layer_norm_eps === 'number' ? c.layer_norm_eps : 1e-12,
    hidden_act: act as string,
    ...(typeof c.classifier_dropout === 'number' ? { classifier_dropout: c.classifier_dropout } : {}),
  };
}

export function readConfig(dir: string): BertConfig {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new UserError(`${p}: not found; a model folder needs config.json (and model.safetensors)`, 'E_NOT_FOUND');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new UserError(`${p}: not valid JSON (${(e as Error).message})`, 'E_CONFIG');
  }
  return checkConfig(raw, p);
}

/** Lines in a vocab.txt (one token a line; a trailing newline does not add one). */
export function countVocab(path: string): number {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.length;
}
