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
import { UserError } from '../../core/errors';
import { loadStudy, studyStateDir, type LoadedStudy } from '../../core/study';
import { openStore, studyStorage } from '../../store';
import { redactUrl } from '../../store/postgres';
import { JOURNAL_FILE } from '../../store/journal';
import type { StoredTrial, StudyStore } from '../../store/types';
import { willRerun } from '../../runner/failure-policy';
import { seqlenTag } from '../../runner/seqlen';
import { bestTrial, workerIds, type RunOutcome } from '../../runner/study-runner';
import { makeTuner } from '../../runner/tuner-source';
import { checkpointPolicy } from '../../runner/promotions';
import { requirePreflight } from '../../runner/preflight';
import type { CommandContext } from '../context';
import { runPrinter } from '../run-printer';
import { exitFor, parsePositiveInt, parseSeconds, runStudy, trialBudget } from '../study-run';

interface TuneOptions {
  storage?: string;
  heartbeatTimeout?: number;
  resume?: boolean;
  fresh?: boolean;
  nTrials?: number;
  parallel?: number;
  retryFailed?: boolean;
  json?: boolean;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('tune')
    .description('run the study\'s hyperparameter search (local journal under .trialbook/<name>/, resumable; a shared PostgreSQL study: join it as its workers)')
    .argument('<study>', 'study file (NAME.trialbook.json)')
    .option('--storage <url>', 'tune a study shared through PostgreSQL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; default: storage in the study file): this process joins it as a worker, like `trialbook worker`, and other machines may join too')
    .option('--resume', 'continue a study that already has trials (after a crash, kill or Ctrl-C), re-running the failed trials whose cause may be fixed since (bad input, a full disk); implied for a shared study')
    .option('--retry-failed', 'also give every other failed trial one more attempt (implies --resume)')
    .option('--fresh', 'start over: move the existing journal and checkpoints to an archive folder (local studies only)')
    .option('--n-trials <n>', 'trial budget (default: budget.maxTrials of the study; shared: of the whole study, all machines together)', (v) => parsePositiveInt(v, '--n-trials'))
    .option('--parallel <k>', 'trials at once, one worker each (default: budget.parallel)', (v) => parsePositiveInt(v, '--parallel'))
    .option('--heartbeat-timeout <s>', 'shared study: a trial whose worker sent no heartbeat for this long is re-run elsewhere (default 60)', parseSeconds)
    .option('--json', 'print JSON lines (one per event) instead of progress text')
    .action(async (file: string, opts: TuneOptions) => {
      if (opts.resume && opts.fresh) throw new UserError('--resume and --fresh exclude each other: pick one', 'E_USAGE');
      if (opts.retryFailed && opts.fresh) throw new UserError('--retry-failed and --fresh exclude each other: pick one', 'E_USAGE');
      const loaded = loadStudy(file);
      const { study } = loaded;
      const storage = studyStorage(loaded, opts.storage);
      ctx.checkData(loaded);
      if (storage.kind === 'postgres' && opts.fresh) {
        throw new UserError(`--fresh: study "${study.name}" is shared through ${redactUrl(storage.url)}, where other machines may be running it, so tune does not start it over; give the study another name to start a new one`, 'E_USAGE');
      }
      if (storage.kind === 'journal' && opts.heartbeatTimeout !== undefined) throw new UserError(`--heartbeat-timeout: only for a shared study (storage postgresql://…); ${loaded.file} keeps its trials in the local journal`, 'E_USAGE');
      // Before spending CPU hours: missing files stop it, settings that cannot train are named.
      requirePreflight(loaded, (line) => process.stderr.write(`${line}\n`));
      const parallel = opts.parallel ?? study.budget.parallel;
      const store = storage.kind === 'journal' ? await openForTune(loaded, opts) : await openStore(loaded, { storage: storage.url, parallel });
      if (store.shared && !opts.json) {
        const trials = (await store.trials()).filter((t) => !seqlenTag(t));
        const done = trials.filter((t) => t.state === 'complete').length;
        const ids = workerIds(parallel);
        process.stdout.write(`shared study ${study.name} at ${store.where}: ${trials.length ? `joining it (${trials.length} trials so far, ${done} complete)` : 'starting it'} as worker${ids.length > 1 ? 's' : ''} ${ids.join(', ')}\n`);
      }
      const budget = trialBudget(loaded, opts.nTrials);
      const policy = checkpointPolicy(study);
      const shared = store.shared;
      const outcome = await runStudy(loaded, store, {
        objective: ctx.objective,
        source: makeTuner(loaded, budget.maxTrials),
        parallel,
        include: (t) => !seqlenTag(t),
        ...(budget.cap !== undefined ? { maxTrials: budget.cap } : {}),
        epochs: study.training.epochs,
        ...(opts.heartbeatTimeout !== undefined ? { heartbeatTimeoutS: opts.heartbeatTimeout } : {}),
        ...(policy ? { checkpoints: policy } : {}),
        saveModels: true,
        ...(opts.retryFailed ? { retryFailed: 'all' as const } : opts.resume || shared ? { retryFailed: 'fixable' as const } : {}),
        quiet: !!opts.json,
        onEvent: opts.json ? (e) => process.stdout.write(JSON.stringify(e) + '\n') : runPrinter({ metric: study.objective.metric }),
      });
      const { best, counts } = tally(study, outcome);
      const summary = { study: study.name, ...(shared ? { storage: store.where, ran: outcome.ran.length } : {}), ...counts };
      if (opts.json) process.stdout.write(JSON.stringify({ type: 'summary', ...summary }) + '\n');
      else {
        const what = `${summary.trials} trials (${summary.complete} complete, ${summary.failed} failed, ${summary.pruned} pruned${summary.toRerun ? `, ${summary.toRerun} to re-run on --resume` : ''})`;
        process.stdout.write(`\nstudy ${study.name}: ${what} — ${shared ? `this machine ran ${outcome.ran.length}; ` : ''}${outcome.reason === 'failures' ? 'stopped after repeated failures' : outcome.message}\n`);
        printBest(study, best);
        process.stdout.write(`report: trialbook report ${loaded.file}${opts.storage ? ' --storage URL' : ''} --format md\n`);
      }
      exitFor(outcome);
    });
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
  const open = (): Promise<StudyStore> => openStore(loaded, { storage: 'journal' });
  let store = await open();
  const existing = (await store.trials()).filter((t) => !seqlenTag(t));
  if (existing.length && opts.fresh) {
    await store.close();
    say(`trialbook: --fresh: moved the old journal and checkpoints to ${archive(loaded)}`);
    store = await open();
  } else if (existing.length && !opts.resume && !opts.retryFailed) {
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

/** What a finished run's summary counts (local and shared alike), in the order its JSON prints it. */
function tally(study: LoadedStudy['study'], outcome: RunOutcome) {
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
