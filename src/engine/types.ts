/**
 * What the training engine takes and gives back. The engine knows nothing about tuners or
 * stores: a trial's hyperparameters come in as plain data and its metrics go out as plain data.
 */
import type { EncodedSplit } from '../core/encoded';
import type { Metric } from '../protocol/messages';
import type { FeatureCache } from './feature-cache';
import type { Precision, PrecisionSetting } from './precision';

/** Standard BERT config.json fields the engine reads. */
export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  layer_norm_eps?: number;
  hidden_act?: string;
  /** The head's dropout; null or absent: hidden_dropout_prob (as in Hugging Face). Training uses the trial's dropout_rate. */
  classifier_dropout?: number | null;
}

/** Hyperparameters of one training run, complete: resolved from the study by core/params.ts. */
export type { TrainParams } from '../core/params';
import type { TrainParams } from '../core/params';

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

export interface TrainHooks {
  onMetric?(m: Metric): void;
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', text: string): void;
  /** Polled between steps; true stops training within one step (cancel). */
  shouldStop?(): boolean;
}

export interface TrainResult {
  bestValLoss: number;
  /** The val accuracy at the best-loss epoch (`bestEpoch`, whose model is kept), not the best of any epoch. */
  bestValAccuracy: number;
  bestEpoch: number;
  epochsRun: number;
  curve: Metric[];
  backend: string;
  /** On wasm: the native BLAS that ran the matmuls, if any (native-blas.ts). */
  matmul?: string;
  /** The matmul precision the trial ran at (precision.ts). */
  precision: Precision;
  microBatch: number;
  accumulationSteps: number;
  secondsPerEpoch: number;
  peakRssMiB: number;
  stoppedEarly: boolean;
  /**
   * Whether the encoder ran: false for a frozen trial whose features were all cached, which then
   * leaves the process's memory as it found it (the worker client keeps such a worker).
   */
  encoderRan: boolean;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
  perClass: Array<{ label: string; precision: number; recall: number; f1: number; support: number }>;
}

export interface Prediction {
  label: number;
  probs: number[];
}

/**
 * What `src/engine/index.ts` exports (the worker is its only caller):
 *   initBackend(preference?): Promise<{ name; threads }>  — tfjs-node-gpu > tfjs-node > wasm > cpu
 *   trainModel(input, hooks?): Promise<TrainResult>
 *   evaluateModel(modelDir, split): Promise<EvalResult>
 *   predictModel(modelDir, split): Promise<Prediction[]>
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
