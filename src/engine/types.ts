/**
 * What the training engine gives back, and the types its modules share (what it takes, beside
 * them: train-input.ts). The engine knows nothing about tuners or stores: a trial's
 * hyperparameters come in as plain data and its metrics go out as plain data. A leaf: it imports
 * no other module of the engine, so every module can use it without an import circle.
 */
import type { Metric } from '../protocol/messages';
import type { Precision } from './precision';

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

export interface TrainHooks {
  onMetric?(m: Metric): void;
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', text: string): void;
  /** Polled between steps; true stops training within one step (cancel). */
  shouldStop?(): boolean;
  /**
   * Called before each pass over the model (a training micro-batch, a forward-only pass) with its
   * rows and sequence length. An out-of-memory error thrown here is handled as the pass's own (it
   * is retried smaller), so a caller can cap passes: the tests fail large ones this way instead of
   * filling memory.
   */
  beforePass?(rows: number, seqLen: number): void;
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
