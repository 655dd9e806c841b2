/**
 * Running trials of a study, for every command that does (tune, worker, seqlen): the study's
 * store for writing (the local journal under its lock, or the study shared through PostgreSQL)
 * and the one study runner over it. The first Ctrl-C / SIGTERM stops cleanly (running trials
 * are cancelled and recorded, so a later run, here or on another machine, re-runs them); a
 * second one exits at once.
 */
import { InvalidArgumentError } from 'commander';
import { UserError } from '../core/errors';
import { signalExitCode } from '../core/process';
import { studyStateDir, type LoadedStudy } from '../core/study';
import type { Params } from '../protocol/messages';
import type { RunEvent } from '../protocol/run-events';
import type { StoredTrial, StudyStore } from '../store/types';
import { resolveParams } from '../core/params';
import type { Objective } from '../runner/objective';
import { StudyRunner, type RunOutcome, type TrialSource } from '../runner/study-runner';
import type { CheckpointPolicy } from '../runner/promotions';

/** The objective a command's trials run in: a worker process (tests pass a cheap stand-in). */
export type ObjectiveFactory = (loaded: LoadedStudy, opts: { parallel: number }) => Objective;

export interface StudyRunOptions {
  objective: ObjectiveFactory;
  source: TrialSource;
  parallel: number;
  include: (t: StoredTrial) => boolean;
  /** Trials of this run's kind in the whole study (all machines together); undefined: the source decides. */
  maxTrials?: number;
  epochs: number;
  heartbeatTimeoutS?: number;
  workerId?: string;
  checkpoints?: CheckpointPolicy;
  saveModels: boolean;
  retryFailed?: 'fixable' | 'all';
  /** No "cancelling" line on the first Ctrl-C (JSON output). */
  quiet: boolean;
  onEvent(e: RunEvent): void;
}

export interface StudyRunOutcome extends RunOutcome {
  /** The signal that stopped the run, if one did (the command's exit code says which). */
  signal?: NodeJS.Signals;
}

/** Runs the study's trials in `store` until the source is done or the run stops; closes the store. */
export async function runStudy(loaded: LoadedStudy, store: StudyStore, o: StudyRunOptions): Promise<StudyRunOutcome> {
  const { study } = loaded;
  const runner = new StudyRunner({
    store,
    source: o.source,
    objective: () => o.objective(loaded, { parallel: o.parallel }),
    stateDir: studyStateDir(loaded),
    metric: study.objective.metric,
    direction: study.objective.direction,
    epochs: o.epochs,
    baseSeed: study.data.seed,
    parallel: o.parallel,
    ...(o.maxTrials !== undefined ? { maxTrials: o.maxTrials } : {}),
    maxRetries: study.budget.max_retries_per_trial,
    maxConsecutiveFailures: study.budget.max_consecutive_failed_trials,
    include: o.include,
    resolveParams: (suggested: Params, run) => resolveParams(study, loaded.file, { ...suggested, ...run }, `${loaded.file}: searchSpace`).params,
    ...(o.retryFailed ? { retryFailed: o.retryFailed } : {}),
    saveModels: o.saveModels,
    ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}),
    ...(o.heartbeatTimeoutS !== undefined ? { heartbeatTimeoutS: o.heartbeatTimeoutS } : {}),
    ...(o.workerId ? { workerId: o.workerId } : {}),
    onEvent: o.onEvent,
  });
  let signal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (runner.isStopping) {
      process.stderr.write(`trialbook: ${sig} again: exiting now; run again with --resume to continue\n`);
      process.exit(signalExitCode(sig));
    }
    signal ??= sig;
    if (!o.quiet) process.stderr.write(`\ntrialbook: ${sig}: cancelling the running trial${o.parallel > 1 ? 's' : ''} and stopping (press Ctrl-C again to exit at once)\n`);
    runner.stop('cancelled', store.shared ? `stopped by ${sig}; another worker re-runs the cancelled trials` : undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runner.run();
    return { ...outcome, ...(signal ? { signal } : {}) };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
}

/**
 * The trial budget of a study: the tuner counts configurations (ASHA: runs), the runner's cap
 * counts runs, repeats included; Hyperband's budget is its brackets (what `trialbook plan`
 * prints) unless --n-trials caps it.
 */
export function trialBudget(loaded: LoadedStudy, nTrials: number | undefined): { maxTrials: number; cap: number | undefined } {
  const { study } = loaded;
  const maxTrials = nTrials ?? study.budget.maxTrials;
  const runsPerConfig = study.tuner.type === 'asha' ? 1 : study.budget.repeats;
  return { maxTrials, cap: study.tuner.type === 'hyperband' ? nTrials : maxTrials * runsPerConfig };
}

/** The run's outcome as the command's exit: repeated failures are an error (exit 2), a stop by a signal 128 + its number. */
export function exitFor(outcome: StudyRunOutcome): void {
  if (outcome.reason === 'failures') throw new UserError(outcome.message, 'E_TRIALS_FAILED');
  if (outcome.reason === 'cancelled') process.exitCode = signalExitCode(outcome.signal ?? 'SIGINT');
}

export function parsePositiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 1, got "${v}"`);
  return n;
}

export function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`--heartbeat-timeout must be a number of seconds > 0, got "${v}"`);
  return n;
}
