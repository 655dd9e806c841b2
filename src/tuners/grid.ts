/** Grid search: every grid point once, in a fixed order, then done. */
import { configKey, gridPoints } from './space';
import type { SearchSpace, Suggestion, TrialRecord, Tuner } from './types';

export interface GridOptions {
  /** Points per float dimension (and per wide int dimension), log or linear as declared. */
  floatPoints?: number;
  maxTrials?: number;
}

export class GridTuner implements Tuner {
  readonly name = 'grid';
  readonly points: ReturnType<typeof gridPoints>;
  constructor(
    private readonly space: SearchSpace,
    private readonly o: GridOptions = {},
  ) {
    this.points = gridPoints(space, o.floatPoints ?? 4);
  }

  suggest(history: TrialRecord[]): Suggestion {
    if (this.o.maxTrials !== undefined && history.length >= this.o.maxTrials) return { kind: 'done' };
    const used = new Set(history.map((t) => configKey(this.space, t.params)));
    const next = this.points.find((p) => !used.has(configKey(this.space, p)));
    if (next) return { kind: 'trial', params: next, tag: { grid: this.points.indexOf(next) } };
    return { kind: 'done' };
  }
}
