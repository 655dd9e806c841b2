/** Builds a trial's model: a preset from a seed, a folder's weights, or only the head when a frozen trial's features are cached. */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../core/errors';
import type { EncodedSplit } from '../core/encoded';
import type { BertConfig, TrainHooks } from './types';
import type { TrainInput } from './train-input';
import { isPreset, presetConfig, PRESETS } from './config';
import { BertClassifier } from './model';
import { initialiseMissing, mapCheckpoint, readModelFolder } from './weights';
import { FeatureCache } from './feature-cache';

export interface BuiltModel {
  /** Only the head when a frozen trial's features were all cached (see buildFrozenFromCache). */
  model: BertClassifier;
  config: BertConfig;
  /** Identifies the encoder weights, for the feature cache. */
  sourceKey: string;
  /** Names the encoder weights the same way on every machine (a frozen checkpoint records it). */
  bodyId: string;
  vocabPath?: string;
}

/**
 * Names a preset's seeded weights. `init2`: the initial values' generator (Rng.fillNormal), so a
 * frozen checkpoint or a feature cache made from another generator's body is never taken for this one.
 */
function presetSourceKey(input: TrainInput, seed: number): string {
  return `preset:${input.model}:init2:v${input.vocabSize}:n${input.numLabels}:s${seed}`;
}

/** A preset's config with the study's encoder dropout. */
function presetModelConfig(input: TrainInput): BertConfig {
  return { ...presetConfig(input.model, input.vocabSize), ...input.encoderDropout };
}

/** A preset from a seed, or a folder's weights (with a fresh head if the folder has none). */
export function buildModel(input: TrainInput, seed: number, log: TrainHooks['onLog']): BuiltModel {
  if (isPreset(input.model)) {
    if (!(input.vocabSize > 0)) throw new UserError(`model "${input.model}": vocabSize must be given for a preset`, 'E_VOCAB');
    const config = presetModelConfig(input);
    const sourceKey = presetSourceKey(input, seed);
    return { model: BertClassifier.fromSeed(config, input.numLabels, seed), config, sourceKey, bodyId: sourceKey, vocabPath: input.vocabPath };
  }
  const dir = resolve(input.model);
  if (!existsSync(dir)) throw new UserError(`model "${input.model}": neither a preset (${Object.keys(PRESETS).join(', ')}) nor an existing folder`, 'E_NOT_FOUND');
  const mf = readModelFolder(dir);
  for (const note of mf.notes) log?.('info', note);
  // Dropout changes neither the weights nor inference, so the cache keys below stay valid.
  mf.config = { ...mf.config, ...input.encoderDropout };
  if (input.vocabSize > mf.config.vocab_size) {
    throw new UserError(`${join(dir, 'config.json')}: vocab_size ${mf.config.vocab_size} is smaller than the data's vocab (${input.vocabSize} tokens); tokenize with the model's vocab.txt`, 'E_VOCAB');
  }
  if (input.vocabSize > 0 && input.vocabSize < mf.config.vocab_size) log?.('info', `the data's vocab has ${input.vocabSize} tokens, the model's embedding ${mf.config.vocab_size} rows: the last ${mf.config.vocab_size - input.vocabSize} are never used`);
  const { file, bytes, mtimeMs } = mf.weights;
  const loaded = mapCheckpoint(file, mf.weights.tensors, mf.config, input.numLabels, true);
  initialiseMissing(file, loaded, mf.config, input.numLabels, seed, log);
  const fresh = loaded.headMissing || loaded.poolerMissing;
  return {
    model: new BertClassifier(mf.config, input.numLabels, loaded.values),
    config: mf.config,
    sourceKey: `dir:${dir}:${bytes}:${mtimeMs}:n${input.numLabels}:s${fresh ? seed : 'saved'}`,
    bodyId: `model folder ${basename(dir)} (${bytes} bytes of weights)`,
    vocabPath: input.vocabPath ?? mf.vocabPath,
  };
}

/**
 * A frozen preset trial whose train and val features are all cached needs no encoder: only the
 * head is built, with the values a full build would give it (tiny's body costs about half of
 * such a trial to build). Undefined when anything is missing; the caller then builds the whole model.
 */
export function buildFrozenFromCache(input: TrainInput, seed: number, train: EncodedSplit, val: EncodedSplit, cache: FeatureCache, log: TrainHooks['onLog']): BuiltModel | undefined {
  if (!isPreset(input.model) || !(input.vocabSize > 0)) return undefined;
  const config = presetModelConfig(input);
  const sourceKey = presetSourceKey(input, seed);
  const H = config.hidden_size;
  if (!cache.get(FeatureCache.key(sourceKey, train), train.count, H, log) || !cache.get(FeatureCache.key(sourceKey, val), val.count, H, log)) return undefined;
  log?.('debug', 'encoder features cached for train and val: building the head only');
  return { model: BertClassifier.fromSeed(config, input.numLabels, seed, true), config, sourceKey, bodyId: sourceKey, vocabPath: input.vocabPath };
}
