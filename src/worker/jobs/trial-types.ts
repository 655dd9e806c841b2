/** What the `trial` job returns: the engine's TrainResult (the study runner reads it as is) plus context. */
import type { EvalResult, TrainParams, TrainResult } from '../../engine/types';

export interface TrialJobResult extends TrainResult {
  /** The merged hyperparameters the trial ran with. */
  params: TrainParams;
  labels: string[];
  /** Folder of the saved best model, when saveTo or evaluateTest asked for one. */
  savedTo?: string;
  /** Test split scores, only when requested. */
  test?: EvalResult;
}
