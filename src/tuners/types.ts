/**
 * The tuner ("oracle") interface. Tuners decide which hyperparameters to try and when to stop
 * or promote a configuration; they never import the engine. They are pure and rebuildable
 * from the trial history, which is how a resumed study continues where it was.
 */
import type { Params } from '../protocol/messages';

export type Direction = 'minimize' | 'maximize';

export type Dimension =
  | { type: 'float'; name: string; low: number; high: number; log?: boolean }
  | { type: 'int'; name: string; low: number; high: number; step?: number; log?: boolean }
  | { type: 'choice'; name: string; values: Array<number | string | boolean> }
  | { type: 'bool'; name: string }
  | { type: 'fixed'; name: string; value: number | string | boolean };

export type SearchSpace = Dimension[];

/** What a tuner asks the runner to do next. */
export type Suggestion =
  | {
      kind: 'trial';
      params: Params;
      /** Epoch budget for this run (multi-fidelity tuners), else the study's epochs. */
      epochs?: number;
      /** Continue training the checkpoint of this earlier trial (Hyperband promotion). */
      resumeFrom?: number;
      /** Tuner bookkeeping, stored with the trial and given back on replay (e.g. bracket/round). */
      tag?: Record<string, unknown>;
    }
  | { kind: 'wait' } // nothing to do until a running trial finishes
  | { kind: 'done' }; // budget spent

/** A finished or running trial as tuners see it. */
export interface TrialRecord {
  number: number;
  params: Params;
  state: 'running' | 'complete' | 'failed' | 'pruned';
  /** Objective (mean over repeats when repeats > 1). */
  value?: number;
  /** Objective per epoch, for pruning decisions. */
  intermediate?: number[];
  epochs?: number;
  tag?: Record<string, unknown>;
}

export interface Tuner {
  readonly name: string;
  /** Next thing to run, given every trial so far (running ones included). */
  suggest(history: TrialRecord[]): Suggestion;
}
