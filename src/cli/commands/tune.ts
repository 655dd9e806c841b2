/**
 * `trialbook tune STUDY [--storage URL] [--resume|--fresh] [--n-trials N] [--parallel K] [--json]`
 *
 * Runs the study's tuner until its budget is spent. A study that already has trials is not
 * silently extended or overwritten: `--resume` continues it (finished trials kept, the trial
 * that was running re-run from its last checkpoint), `--fresh` moves the old journal and
 * checkpoints to an archive folder and starts over. Ctrl-C stops after cancelling the running
 * trial, which `--resume` re-runs.
 *
 * A shared study (storage a postgresql:// URL, in the study file or `--storage`) is tuned the
 * way `trialbook worker` tunes it: this process joins it with `--parallel` workers, whether or
 * not other machines have started it already, so the same `tune` command works on every
 * machine. `--resume` is then implied; `--fresh` is refused (other machines may be running it).
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../../core/errors';
import { loadStudy, studyStateDir, toSearchSpace, type LoadedStudy } from '../../core/study';
import { openStore, studyStorage } from '../../store';
import { redactUrl } from '../../store/postgres';
import { isEpochSummary } from '../../store/replay';
import { JOURNAL_FILE } from '../../store/journal';
import type { StoredTrial, StudyStore } from '../../store/types';
import { makeObjective } from '../../runner/objective-factory';
import { seqlenTag } from '../../runner/seqlen';
import { bestTrial, StudyRunner, willRerun, type RunnerEvent, type RunOutcome } from '../../runner/study-runner';
import { makeTuner } from '../../runner/tuner-source';
import { checkpointPolicy } from '../../runner/promotions';
import { requirePreflight } from '../../runner/preflight';
import { attachStopSignals, formatMetric, formatParams, parsePositiveInt } from '../../runner/progress';
import { asRunnerEvents, describeCheckpoint, runShared, sharedBudget } from '../shared-study';

interface TuneOptions {
  storage?: string;
  heartbeatTimeout?: number;
  resume?: boolean;
  fresh?: boolean;
  nTrials?: number;
  parallel?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('tune')
    .description('run the study\'s hyperparameter search (local journal under .trialbook/<name>/, resumable; a shared PostgreSQL study: join it as its workers)')
    .argument('<study>', 'study file (NAME.trialbook.json)')
    .option('--storage <url>', 'tune a study shared through PostgreSQL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; default: storage in the study file): this process joins it as a worker, like `trialbook worker`, and other machines may join too')
    .option('--resume', 'continue a study that already has trials (after a crash, kill or Ctrl-C); implied for a shared study')
    .option('--fresh', 'start over: move the existing journal and checkpoints to an archive folder (local studies only)')
    .option('--n-trials <n>', 'trial budget (default: budget.maxTrials of the study; shared: of the whole study, all machines together)', (v) => parsePositiveInt(v, '--n-trials'))
    .option('--parallel <k>', 'trials at once, one worker each (default: budget.parallel)', (v) => parsePositiveInt(v, '--parallel'))
    .option('--heartbeat-timeout <s>', 'shared study: a trial whose worker sent no heartbeat for this long is re-run elsewhere (default 60)', parseSeconds)
    .option('--json', 'print JSON lines (one per event) instead of progress text')
    .action(async (file: string, opts: TuneOptions) => {
      if (opts.resume && opts.fresh) throw new UserError('--resume and --fresh exclude each other: pick one', 'E_USAGE');
      const loaded = loadStudy(file);
      // Before spending CPU hours (after the usage checks): missing files stop it, settings that cannot train are named.
      const preflight = (): unknown => requirePreflight(loaded, (line) => process.stderr.write(`${line}\n`));
      const storage = studyStorage(loaded, opts.storage);
      if (storage.kind === 'postgres') {
        if (opts.fresh) {
          throw new UserError(`--fresh: study "${loaded.study.name}" is shared through ${redactUrl(storage.url)}, where other machines may be running it, so tune does not start it over; give the study another name to start a new one`, 'E_USAGE');
        }
        preflight();
        const outcome = await tuneShared(loaded, storage.url, opts);
        if (outcome.reason === 'failures') throw new UserError(outcome.message, 'E_TRIALS_FAILED');
        if (outcome.reason === 'cancelled') process.exitCode = 130;
        return;
      }
      if (opts.heartbeatTimeout !== undefined) throw new UserError(`--heartbeat-timeout: only for a shared study (storage postgresql://…); ${loaded.file} keeps its trials in the local journal`, 'E_USAGE');
      preflight();
      const store = await openForTune(loaded, opts);
      const outcome = await runTune(loaded, store, opts);
      if (outcome.reason === 'failures') throw new UserError(outcome.message, 'E_TRIALS_FAILED');
      if (outcome.reason === 'cancelled') process.exitCode = 130;
    });
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`--heartbeat-timeout must be a number of seconds > 0, got "${v}"`);
  return n;
}

/** Tunes a shared study as `--parallel` workers of it; prints what a local `tune` prints. */
async function tuneShared(loaded: LoadedStudy, url: string, opts: TuneOptions): Promise<{ reason: string; message: string }> {
  const { study } = loaded;
  const budget = sharedBudget(loaded, opts.nTrials);
  const policy = checkpointPolicy(study);
  const text = opts.json ? undefined : printer(study.objective.metric, budget.cap);
  const emit = (e: RunnerEvent): void => {
    if (opts.json) process.stdout.write(JSON.stringify(e) + '\n');
    else text!(e);
  };
  const outcome = await runShared(loaded, {
    url,
    parallel: opts.parallel ?? study.budget.parallel,
    source: () => makeTuner(loaded, toSearchSpace(study.searchSpace), budget.maxTrials),
    include: (t) => !seqlenTag(t),
    ...(budget.cap !== undefined ? { maxTrials: budget.cap } : {}),
    epochs: study.training.epochs,
    heartbeatTimeoutS: opts.heartbeatTimeout ?? 60,
    ...(policy ? { checkpoints: policy } : {}),
    saveModels: true,
    quiet: !!opts.json,
    onOpen: (where, workers, trials) => {
      if (opts.json) return;
      const done = trials.filter((t) => t.state === 'complete').length;
      process.stdout.write(`shared study ${study.name} at ${where}: ${trials.length ? `joining it (${trials.length} trials so far, ${done} complete)` : 'starting it'} as worker${workers.length > 1 ? 's' : ''} ${workers.join(', ')}\n`);
    },
    onEvent: (e) => {
      if (e.type === 'warning' && e.trial === undefined) process.stderr.write(`trialbook: warning: ${e.message}\n`);
      if (!opts.json && (e.type === 'checkpoint' || e.type === 'checkpoint-stored')) {
        process.stdout.write(describeCheckpoint(e)! + '\n');
        return;
      }
      for (const r of asRunnerEvents(e, budget.cap)) emit(r);
    },
  });
  emit({ type: 'stopped', reason: outcome.reason, message: outcome.message });
  const { best, counts } = tally(study, outcome);
  const summary = {
    study: study.name,
    storage: outcome.where,
    workers: outcome.workers,
    ran: outcome.ran.length,
    ...counts,
  };
  if (opts.json) process.stdout.write(JSON.stringify({ type: 'summary', ...summary }) + '\n');
  else {
    process.stdout.write(`\nstudy ${study.name}: ${summary.trials} trials (${summary.complete} complete, ${summary.failed} failed, ${summary.pruned} pruned) — this machine ran ${summary.ran}; ${outcome.message}\n`);
    printBest(study, best);
    process.stdout.write(`report: trialbook report ${loaded.file}${opts.storage ? ' --storage URL' : ''} --format md\n`);
  }
  return outcome;
}

function archive(loaded: LoadedStudy): string {
  const dir = studyStateDir(loaded);
  const dest = join(dir, `archive-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dest, { recursive: true });
  for (const name of [JOURNAL_FILE, 'trials']) if (existsSync(join(dir, name))) renameSync(join(dir, name), join(dest, name));
  return dest;
}

async function openForTune(loaded: LoadedStudy, opts: TuneOptions): Promise<StudyStore> {
  const say = (text: string): void => void process.stderr.write(`${text}\n`);
  let store = await openStore(loaded, { lockSignals: false });
  const existing = (await store.trials()).filter((t) => !seqlenTag(t));
  if (existing.length && opts.fresh) {
    await store.close();
    say(`trialbook: --fresh: moved the old journal and checkpoints to ${archive(loaded)}`);
    store = await openStore(loaded, { lockSignals: false });
  } else if (existing.length && !opts.resume) {
    await store.close();
    const done = existing.filter((t) => t.state === 'complete').length;
    throw new UserError(
      `${join(studyStateDir(loaded), JOURNAL_FILE)}: study "${loaded.study.name}" already has ${existing.length} trials (${done} complete).\n` +
        `  Continue it:   trialbook tune ${loaded.file} --resume\n` +
        `  Start over:    trialbook tune ${loaded.file} --fresh   (the old journal and checkpoints are moved to an archive folder)`,
      'E_STUDY_EXISTS',
    );
  }
  return store;
}

async function runTune(loaded: LoadedStudy, store: StudyStore, opts: TuneOptions): Promise<RunOutcome> {
  const { study } = loaded;
  const maxTrials = opts.nTrials ?? study.budget.maxTrials;
  const tuner = makeTuner(loaded, toSearchSpace(study.searchSpace), maxTrials);
  // The tuner counts configurations (ASHA: runs); the runner's cap counts runs, repeats included.
  // Hyperband's budget is its brackets (what `trialbook plan` prints) unless --n-trials caps it.
  const runsPerConfig = study.tuner.type === 'asha' ? 1 : study.budget.repeats;
  const cap = study.tuner.type === 'hyperband' ? opts.nTrials : maxTrials * runsPerConfig;
  const parallel = opts.parallel ?? study.budget.parallel;
  const runner = new StudyRunner({
    store,
    source: tuner,
    objective: () => makeObjective(loaded, { parallel }),
    stateDir: studyStateDir(loaded),
    metric: study.objective.metric,
    direction: study.objective.direction,
    epochs: study.training.epochs,
    baseSeed: study.data.seed,
    parallel,
    ...(cap !== undefined ? { maxTrials: cap } : {}),
    maxRetries: study.budget.max_retries_per_trial,
    maxConsecutiveFailures: study.budget.max_consecutive_failed_trials,
    include: (t) => !seqlenTag(t),
    saveModels: true,
    ...(checkpointPolicy(study) ? { promotable: checkpointPolicy(study)!.promotable } : {}),
    onEvent: opts.json ? (e) => process.stdout.write(JSON.stringify(e) + '\n') : printer(study.objective.metric, cap),
  });
  const detach = attachStopSignals(runner, opts.json);
  let outcome: RunOutcome;
  try {
    outcome = await runner.run();
  } finally {
    detach();
    await store.close();
  }
  const { best, counts } = tally(study, outcome);
  const summary = { study: study.name, ...counts };
  if (opts.json) process.stdout.write(JSON.stringify({ type: 'summary', ...summary }) + '\n');
  else {
    process.stdout.write(`\nstudy ${study.name}: ${summary.trials} trials (${summary.complete} complete, ${summary.failed} failed, ${summary.pruned} pruned${summary.toRerun ? `, ${summary.toRerun} to re-run on --resume` : ''}) — ${outcome.reason === 'failures' ? 'stopped after repeated failures' : outcome.message}\n`);
    printBest(study, best);
    process.stdout.write(`report: trialbook report ${loaded.file} --format md\n`);
  }
  return outcome;
}

/** What a finished run's summary counts (local and shared alike), in the order its JSON prints it. */
function tally(study: LoadedStudy['study'], outcome: { reason: string; message: string; trials: StoredTrial[] }) {
  const best = bestTrial(outcome.trials, study.objective.direction);
  const count = (s: string): number => outcome.trials.filter((t) => t.state === s).length;
  const counts = {
    stopped: outcome.reason,
    message: outcome.message,
    trials: outcome.trials.length,
    complete: count('complete'),
    failed: outcome.trials.filter((t) => t.state === 'failed' && !willRerun(t, study.budget.max_retries_per_trial)).length,
    toRerun: outcome.trials.filter((t) => willRerun(t, study.budget.max_retries_per_trial)).length,
    pruned: count('pruned'),
    best: best ? { trial: best.number, value: best.value, params: best.params } : null,
  };
  return { best, counts };
}

function printBest(study: LoadedStudy['study'], best: StoredTrial | undefined): void {
  if (best) process.stdout.write(`best: trial ${best.number}, ${study.objective.metric} ${best.value!.toFixed(4)}\n  ${JSON.stringify(best.params)}\n`);
}

function printer(metric: string, total: number | undefined): (e: RunnerEvent) => void {
  const out = (s: string): void => void process.stdout.write(s + '\n');
  return (e) => {
    switch (e.type) {
      case 'recovered':
        out(`resuming: trial${e.trials.length > 1 ? 's' : ''} ${e.trials.join(', ')} stopped mid-run; re-running from the last checkpoint`);
        break;
      case 'trial-started':
        out(`trial ${e.trial} (${e.index}${total !== undefined ? `/${total}` : ''})${e.attempt > 1 ? ` attempt ${e.attempt}` : ''}${e.resume ? ' resumed' : ''}: ${formatParams(e.params)}, ${e.epochs} epochs`);
        break;
      case 'metric':
        if (isEpochSummary(e.metric)) out(`  trial ${e.trial} epoch ${e.metric.epoch}: ${formatMetric(e.metric)}`);
        break;
      case 'log':
        if (e.level === 'warn' || e.level === 'error') out(`  trial ${e.trial} ${e.level}: ${e.text}`);
        break;
      case 'trial-finished':
        out(`trial ${e.trial} complete: ${metric} ${e.value.toFixed(4)} (best: trial ${e.best.trial}, ${e.best.value.toFixed(4)})`);
        break;
      case 'trial-pruned':
        out(`trial ${e.trial} pruned after epoch ${e.epoch}`);
        break;
      case 'trial-failed':
        out(`trial ${e.trial} ${e.reason === 'cancelled' ? 'cancelled' : `failed (${e.reason})`}: ${e.message.split('\n')[0]}${e.willRetry && e.reason !== 'cancelled' ? ' — will retry' : ''}`);
        break;
      case 'stopped':
        break;
    }
  };
}
