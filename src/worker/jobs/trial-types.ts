/** What the `trial` job takes and returns, for the processes that start one. */
import type { TrainParams } from '../../core/params';
import type { LoadedStudy } from '../../core/study';
import type { EvalResult, TrainResult } from '../../engine/types';
import type { JobInput, TrialJobOptions } from '../../protocol/messages';

export interface TrialJobResult extends TrainResult {
  labels: string[];
  /** Folder of the saved best model, when saveTo or evaluateTest asked for one. */
  savedTo?: string;
  /** Test split scores, only when requested. */
  test?: EvalResult;
}

/** The trial job of a study as this process loaded it, with the trial's full hyperparameters. */
export function trialJobInput(loaded: LoadedStudy, params: TrainParams, options: Omit<TrialJobOptions, 'study' | 'params'> = {}): JobInput {
  return { kind: 'trial', options: { study: { file: loaded.file, spec: loaded.study }, params, ...options } };
}

/**
 * The study's objective from a trial's result: the best val loss, or the best val accuracy of
 * any epoch (bestValAccuracy is the accuracy at the best-loss epoch, where the model is kept).
 */
export function objectiveValue(r: Pick<TrainResult, 'bestValLoss' | 'curve'>, metric: 'val_loss' | 'val_accuracy'): number {
  if (metric === 'val_loss') return r.bestValLoss;
  const accuracies = r.curve.flatMap((m) => (typeof m.val_accuracy === 'number' ? [m.val_accuracy] : []));
  return accuracies.length ? Math.max(...accuracies) : NaN;
}
