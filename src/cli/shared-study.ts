/**
 * Running trials of a study shared through PostgreSQL, for every command that runs trials:
 * `worker`, and `tune` / `seqlen` when the study's storage is a database (study file or
 * `--storage`). K PostgreSQL workers in this process (one store connection pool and one
 * objective each), stopped together by Ctrl-C / SIGTERM: the running trials are cancelled and
 * recorded, and another worker re-runs them.
 */
import type { LoadedStudy } from '../core/study';
import { studyStateDir } from '../core/study';
import { defaultWorkerId, openPostgresStudy, PgWorker, type PgWorkerEvent, type PostgresStore } from '../store/postgres';
import type { StoredTrial } from '../store/types';
import { makeObjective } from '../runner/objective-factory';
import { noteStopSignal, stopExitCode } from '../runner/progress';
import type { CheckpointPolicy } from '../runner/promotions';
import type { RunnerEvent, TrialSource } from '../runner/study-runner';

export interface SharedRunOptions {
  url: string;
  /** Workers in this process (trials at once). */
  parallel: number;
  source: () => TrialSource;
  include: (t: StoredTrial) => boolean;
  /** Trial cap of the whole study, all workers together. */
  maxTrials?: number;
  epochs: number;
  heartbeatTimeoutS: number;
  /** Worker name (default HOST:PID); with several workers, #1, #2, … is appended. */
  id?: string;
  checkpoints?: CheckpointPolicy;
  saveModels: boolean;
  onEvent(e: PgWorkerEvent, worker: string): void;
  /** Called once the database is reached, before the first claim. */
  onOpen?(where: string, workers: string[], trials: StoredTrial[]): void;
  /** Suppress the "cancelling" line on the first Ctrl-C (JSON output). */
  quiet?: boolean;
}

export interface SharedRunResult {
  reason: 'done' | 'cancelled' | 'failures';
  message: string;
  /** Trials the workers of this process ran to an outcome. */
  ran: number[];
  claimMs: number[];
  /** Every trial of the study (this run's kind) at the end. */
  trials: StoredTrial[];
  where: string;
  workers: string[];
}

export async function runShared(loaded: LoadedStudy, o: SharedRunOptions): Promise<SharedRunResult> {
  const { study } = loaded;
  const stores: PostgresStore[] = [];
  try {
    // The first opener creates or upgrades the schema; the others find it ready.
    for (let i = 0; i < o.parallel; i++) stores.push(await openPostgresStudy(o.url, loaded));
    const base = o.id ?? defaultWorkerId();
    const workers = stores.map(
      (store, i) =>
        new PgWorker({
          store,
          source: o.source(),
          objective: makeObjective(loaded, { parallel: o.parallel }),
          stateDir: studyStateDir(loaded),
          metric: study.objective.metric,
          direction: study.objective.direction,
          epochs: o.epochs,
          baseSeed: study.data.seed,
          ...(o.maxTrials !== undefined ? { maxTrials: o.maxTrials } : {}),
          maxRetries: study.budget.max_retries_per_trial,
          maxConsecutiveFailures: study.budget.max_consecutive_failed_trials,
          heartbeatTimeoutS: o.heartbeatTimeoutS,
          include: o.include,
          workerId: o.parallel > 1 ? `${base}#${i + 1}` : base,
          ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}),
          saveModels: o.saveModels,
          onEvent: (e) => o.onEvent(e, workers[i]!.id),
        }),
    );
    o.onOpen?.(stores[0]!.where, workers.map((w) => w.id), (await stores[0]!.trials()).filter(o.include));
    const stopAll = (reason: 'cancelled' | 'failures', message: string): void => {
      for (const w of workers) w.stop(reason, message);
    };
    const onSignal = (sig: NodeJS.Signals): void => {
      if (workers.some((w) => w.isStopping)) process.exit(stopExitCode());
      noteStopSignal(sig);
      if (!o.quiet) process.stderr.write(`\ntrialbook: ${sig}: cancelling the running trial${workers.length > 1 ? 's' : ''} (another worker re-runs ${workers.length > 1 ? 'them' : 'it'}) and stopping; press Ctrl-C again to exit at once\n`);
      stopAll('cancelled', `stopped by ${sig}`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let outcomes;
    try {
      outcomes = await Promise.all(
        workers.map(async (w) => {
          const out = await w.run();
          // Repeated failures on this machine stop its other workers too: they share its cause.
          if (out.reason === 'failures') stopAll('failures', out.message);
          return out;
        }),
      );
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const worst = outcomes.find((x) => x.reason === 'failures') ?? outcomes.find((x) => x.reason === 'cancelled') ?? outcomes[0]!;
    const trials = (await stores[0]!.trials()).filter(o.include);
    return {
      reason: worst.reason,
      message: worst.message,
      ran: outcomes.flatMap((x) => x.ran),
      claimMs: outcomes.flatMap((x) => x.claimMs),
      trials,
      where: stores[0]!.where,
      workers: workers.map((w) => w.id),
    };
  } finally {
    await Promise.allSettled(stores.map((s) => s.close()));
  }
}

/**
 * The trial budget of a study, the same for `tune` and `worker`: the tuner counts
 * configurations (ASHA: runs), the cap counts runs, repeats included; Hyperband's budget is its
 * brackets (what `trialbook plan` prints) unless --n-trials caps it.
 */
export function sharedBudget(loaded: LoadedStudy, nTrials: number | undefined): { maxTrials: number; cap: number | undefined } {
  const { study } = loaded;
  const maxTrials = nTrials ?? study.budget.maxTrials;
  const runsPerConfig = study.tuner.type === 'asha' ? 1 : study.budget.repeats;
  const cap = study.tuner.type === 'hyperband' ? nTrials : maxTrials * runsPerConfig;
  return { maxTrials, cap };
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** One line about where a claimed attempt started from, or undefined for nothing worth saying. */
export function describeCheckpoint(e: PgWorkerEvent): string | undefined {
  if (e.type === 'checkpoint-stored') return `trial ${e.trial}: checkpoint stored in the database for promotions (${mib(e.bytes)}, ${e.files} files, ${(e.ms / 1000).toFixed(1)} s)`;
  if (e.type !== 'checkpoint') return undefined;
  const at = e.epoch !== undefined ? ` at epoch ${e.epoch}` : '';
  switch (e.source) {
    case 'own':
      return `trial ${e.trial}: resumes its own checkpoint on this machine`;
    case 'local':
      return `trial ${e.trial}: continues trial ${e.from}'s checkpoint${at} (on this machine)`;
    case 'database':
      return `trial ${e.trial}: continues trial ${e.from}'s checkpoint${at}, fetched from the database (${mib(e.bytes ?? 0)} in ${((e.ms ?? 0) / 1000).toFixed(1)} s)`;
    case 'none':
      return `trial ${e.trial}: promoted from trial ${e.from}, but ${e.reason}: training from scratch for all ${e.epochs} epochs`;
  }
}

/**
 * A shared-study worker's events as the study runner's (`tune --json` prints the same lines for
 * a local and a shared study, so the editor and scripts read both alike).
 */
export function asRunnerEvents(e: PgWorkerEvent, total?: number): RunnerEvent[] {
  switch (e.type) {
    case 'claimed':
      return [{ type: 'trial-started', trial: e.trial, params: e.params, attempt: e.attempt, resume: e.resume, epochs: e.epochs, index: e.trial + 1, ...(total !== undefined ? { total } : {}), ...(e.tag ? { tag: e.tag } : {}) }];
    case 'metric':
      return [{ type: 'metric', trial: e.trial, metric: e.metric }];
    case 'finished':
      return [{ type: 'trial-finished', trial: e.trial, value: e.value, result: e.result, best: e.best }];
    case 'failed':
      return [{ type: 'trial-failed', trial: e.trial, reason: e.reason as never, message: e.message, willRetry: e.willRetry || e.reason === 'cancelled' || e.reason === 'interrupted' }];
    case 'pruned':
      return [{ type: 'trial-pruned', trial: e.trial, epoch: e.epoch }];
    case 'lost':
      return [{ type: 'recovered', trials: e.trials }];
    case 'checkpoint':
    case 'checkpoint-stored':
      return [{ type: 'log', trial: e.trial, level: e.type === 'checkpoint' && e.source === 'none' ? 'warn' : 'info', text: describeCheckpoint(e)! }];
    case 'taken-over':
      return [{ type: 'log', trial: e.trial, level: 'warn', text: `trial ${e.trial}: taken over by another worker while this one was unreachable; its result here is dropped` }];
    case 'warning':
      return e.trial !== undefined ? [{ type: 'log', trial: e.trial, level: 'warn', text: e.message }] : [];
    case 'checkpoints-dropped':
    case 'waiting':
    case 'stopped':
      return [];
  }
}
