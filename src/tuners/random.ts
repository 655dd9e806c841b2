/** Random search: uniform (log-uniform where declared) draws, never the same configuration twice. */
import { configKey, rngFor, sample } from './space';
import type { SearchSpace, Suggestion, TrialRecord, Tuner } from './types';

export interface RandomOptions {
  seed: number;
  /** Trials to suggest in all (undefined: until the runner's budget stops it). */
  maxTrials?: number;
}

export class RandomTuner implements Tuner {
  readonly name = 'random';
  constructor(
    private readonly space: SearchSpace,
    private readonly o: RandomOptions,
  ) {}

  suggest(history: TrialRecord[]): Suggestion {
    if (this.o.maxTrials !== undefined && history.length >= this.o.maxTrials) return { kind: 'done' };
    const used = new Set(history.map((t) => configKey(this.space, t.params)));
    // The k-th suggestion depends only on (seed, k): a resumed study draws what it would have drawn.
    for (let attempt = 0; attempt < 100; attempt++) {
      const params = sample(this.space, rngFor(this.o.seed, history.length, attempt));
      if (!used.has(configKey(this.space, params))) return { kind: 'trial', params };
    }
    // A small discrete space is exhausted: say so instead of repeating a configuration.
    return history.some((t) => t.state === 'running') ? { kind: 'wait' } : { kind: 'done' };
  }
}
