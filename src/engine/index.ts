/**
 * The training engine's public face: the worker (and the CLI commands through it) call only
 * these. See types.ts for the contract.
 */
export type { EvalResult, Prediction, TrainHooks, TrainResult, TrainParams, BertConfig } from './types';
export type { TrainInput } from './train-input';
export { initBackend, type BackendInfo } from './backend';
export { trainModel } from './train';
export { FeatureCache } from './feature-cache';
export { evaluateModel, predictModel, readModelInfo, type SavedModelInfo } from './evaluate';
export { EngineError, isEngineError, type EngineFailure } from './errors';
export { PRESETS } from './config';
