/** Builds the study's tuner (wrapped for repeats) as the runner's trial source. */
import { UserError } from '../core/errors';
import type { LoadedStudy } from '../core/study';
import type { SearchSpace } from '../tuners/types';
import type { TrialSource } from './study-runner';

// TEMPORARY until src/tuners/index.ts lands (createTuner, withRepeats).
export function makeTuner(loaded: LoadedStudy, _space: SearchSpace, _maxTrials: number): TrialSource {
  throw new UserError(`${loaded.file}: tuner "${loaded.study.tuner.type}" is not available yet`, 'E_TODO');
}
