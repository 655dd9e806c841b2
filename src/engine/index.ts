/**
 * The training engine's public face: the worker (and CLI commands through it) call only these.
 * Stubbed first so callers can be written against the signatures; filled in module by module.
 */
import type { EncodedSplit } from '../core/encoded';
import type { EvalResult, Prediction, TrainHooks, TrainInput, TrainResult } from './types';

export type { EvalResult, Prediction, TrainHooks, TrainInput, TrainResult } from './types';

export interface BackendInfo {
  name: string;
  threads: number;
  /** Why each better backend was not used (e.g. "@tensorflow/tfjs-node: not installed"). */
  skipped: string[];
}

/** Picks tfjs-node-gpu > tfjs-node > wasm > cpu; `preference` or env TRIALBOOK_BACKEND overrides. */
export async function initBackend(preference?: string): Promise<BackendInfo> {
  void preference;
  throw new Error('engine: initBackend not implemented yet');
}

export async function trainModel(input: TrainInput, hooks: TrainHooks = {}): Promise<TrainResult> {
  void input; void hooks;
  throw new Error('engine: trainModel not implemented yet');
}

export async function evaluateModel(modelDir: string, split: EncodedSplit): Promise<EvalResult> {
  void modelDir; void split;
  throw new Error('engine: evaluateModel not implemented yet');
}

export async function predictModel(modelDir: string, split: EncodedSplit): Promise<Prediction[]> {
  void modelDir; void split;
  throw new Error('engine: predictModel not implemented yet');
}
