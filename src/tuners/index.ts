/**
 * The tuners, behind one factory. Every tuner is a pure function of the trial history and its
 * seed: the runner can rebuild it at any time (resume, another process) and get the same next
 * suggestion. `maxTrials` counts the configurations a tuner suggests (Hyperband ignores it: its
 * plan fixes the number of runs; ASHA counts runs, promotions included).
 */
import type { TunerSpec } from '../core/study';
import { AshaTuner } from './asha';
import { BayesianTuner } from './bayesian';
import { GridTuner } from './grid';
import { HyperbandTuner } from './hyperband';
import { RandomTuner } from './random';
import { withRepeats } from './repeats';
import { TpeTuner } from './tpe';
import type { Direction, SearchSpace, Tuner } from './types';

export interface TunerOptions {
  seed: number;
  maxTrials?: number;
  direction: Direction;
  /** The study's epochs (single-fidelity tuners train every trial this long). */
  epochs: number;
  /** Run each configuration this many times with different seeds (default 1). */
  repeats?: number;
}

export function createTuner(spec: TunerSpec, space: SearchSpace, opts: TunerOptions): Tuner {
  const { seed, direction } = opts;
  const maxTrials = opts.maxTrials;
  let t: Tuner;
  switch (spec.type) {
    case 'random':
      t = new RandomTuner(space, { seed, maxTrials });
      break;
    case 'grid':
      t = new GridTuner(space, { maxTrials });
      break;
    case 'hyperband':
      t = new HyperbandTuner(space, { maxEpochs: spec.max_epochs, factor: spec.factor, iterations: spec.hyperband_iterations, seed, direction });
      break;
    case 'bayesian':
      t = new BayesianTuner(space, { seed, direction, maxTrials, initialPoints: spec.initial_points, acquisition: spec.acquisition, beta: spec.beta });
      break;
    case 'tpe':
      t = new TpeTuner(space, { seed, direction, maxTrials, initialPoints: spec.initial_points, candidates: spec.candidates });
      break;
    case 'asha':
      t = new AshaTuner(space, {
        minEpochs: spec.min_epochs,
        maxEpochs: spec.max_epochs,
        factor: spec.factor,
        seed,
        direction,
        maxTrials,
      });
      break;
  }
  return withRepeats(t, opts.repeats ?? 1);
}

export { withRepeats, summariseRepeats, rankByMean, repeatTag, type RepeatSummary } from './repeats';
export { planHyperband, hyperbandBrackets, sMax, HyperbandTuner, type HyperbandPlan } from './hyperband';
export { AshaTuner, ashaRungs } from './asha';
export { BayesianTuner } from './bayesian';
export { TpeTuner, sampleTpe } from './tpe';
export { RandomTuner } from './random';
export { GridTuner } from './grid';
export { mean, std, welchTTest } from './stats';
export type { Tuner, Suggestion, TrialRecord, SearchSpace, Dimension, Direction } from './types';
