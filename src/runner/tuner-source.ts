/** Builds the study's tuner (repeats included) as the runner's trial source. */
import type { LoadedStudy } from '../core/study';
import { createTuner } from '../tuners';
import { toSearchSpace } from '../tuners/space';
import type { TrialSource } from './study-runner';

export function makeTuner(loaded: LoadedStudy, maxTrials: number): TrialSource {
  const { study } = loaded;
  return createTuner(study.tuner, toSearchSpace(study.searchSpace), {
    seed: study.data.seed,
    maxTrials,
    direction: study.objective.direction,
    epochs: study.training.epochs,
    repeats: study.budget.repeats,
  });
}
