/**
 * What the study runner calls to run one trial. The real one trains in a worker process
 * (./worker-objective.ts); the tests run a cheap stand-in (testing/quadratic-objective.ts).
 */
import type { Metric, Params } from '../protocol/messages';

export interface TrialSpec {
  number: number;
  /** The full hyperparameters (resolved from the suggestion when the runner resolves them). */
  params: Params;
  epochs: number;
  seed: number;
  /** Per-epoch checkpoints go here (`<studyStateDir>/trials/<n>/checkpoint`). */
  checkpointDir: string;
  /** Continue from the checkpoint in checkpointDir. */
  resume: boolean;
  /** Where the best epoch's model is saved, if the objective saves models. */
  saveBestTo?: string;
  attempt: number;
}

export interface ObjectiveHooks {
  onMetric(m: Metric): void;
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', text: string): void;
  /** Aborted when the trial must stop (cancelled, taken over); the run then rejects soon. */
  signal: AbortSignal;
}

export interface ObjectiveResult {
  /** The study's objective (e.g. best val loss). */
  value: number;
  /** Everything else worth keeping (TrainResult without its curve, which the journal has). */
  result: Record<string, unknown>;
}

export interface Objective {
  readonly name: string;
  run(spec: TrialSpec, hooks: ObjectiveHooks): Promise<ObjectiveResult>;
  close?(): Promise<void>;
}
