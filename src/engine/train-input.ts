/**
 * What trainModel takes. Not in types.ts, the leaf every engine module may import: it names the
 * FeatureCache, which is built on those modules.
 */
import type { EncodedSplit } from '../core/encoded';
import type { BertConfig, TrainParams } from './types';
import type { FeatureCache } from './feature-cache';
import type { PrecisionSetting } from './precision';

export interface TrainInput {
  /** Preset name ('tiny' | 'mini' | 'small') or a folder with config.json (+ model.safetensors). */
  model: string;
  /** Encoder dropout probabilities that replace the preset's or config.json's (the saved config records them). */
  encoderDropout?: Partial<Pick<BertConfig, 'hidden_dropout_prob' | 'attention_probs_dropout_prob'>>;
  /** Matmul precision (precision.ts); default fp32. */
  precision?: PrecisionSetting;
  /** Used when `model` is a preset: vocab size comes from the data's vocab. */
  vocabSize: number;
  numLabels: number;
  train: EncodedSplit;
  val: EncodedSplit;
  params: TrainParams;
  /** Memory budget for activations, MiB; the engine picks micro-batches to fit it. */
  memoryBudgetMiB?: number;
  /** Folder for per-epoch checkpoints (resume) — written atomically. */
  checkpointDir?: string;
  /**
   * The frozen-body feature cache, which its owner may share between the trials of a study
   * (default: a fresh one for this run, on disk in checkpointDir if given).
   */
  featureCache?: FeatureCache;
  /** Resume: continue from the checkpoint in checkpointDir, starting at this epoch. */
  resume?: boolean;
  /** Emit a live metric every K optimizer steps (besides every epoch). */
  logEverySteps?: number;
  /** Save the best epoch's model here (config.json, model.safetensors, vocab.txt, labels). */
  saveBestTo?: string;
  /** Copied into saved models so they are self-contained. */
  vocabPath?: string;
  labelNames?: string[];
}
