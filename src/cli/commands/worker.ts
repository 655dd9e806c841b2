/**
 * `trialbook worker STUDY [--storage URL] [--n-trials N] [--heartbeat-timeout S] [--json]`
 *
 * One worker of a study shared through PostgreSQL. Start as many as you like, on as many
 * machines as you like (each needs the study file and its data): they claim trials atomically,
 * heart-beat while training, re-run the trials of workers that died, and leave when the study's
 * budget is spent and nothing is running anywhere.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { loadStudy } from '../../core/study';
import { openStore, studyStorage } from '../../store';
import { willRerun } from '../../runner/failure-policy';
import { checkpointPolicy } from '../../runner/promotions';
import { bestTrial, workerIds } from '../../runner/study-runner';
import { seqlenTag } from '../../runner/seqlen';
import { makeTuner } from '../../runner/tuner-source';
import type { CommandContext } from '../context';
import { runPrinter } from '../run-printer';
import { exitFor, parsePositiveInt, parseSeconds, runStudy, trialBudget } from '../study-run';

interface WorkerOptions {
  storage?: string;
  nTrials?: number;
  heartbeatTimeout: number;
  json?: boolean;
  id?: string;
}

export function register(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run trials of a study shared through PostgreSQL (start any number, on any machines)')
    .argument('<study>', 'study file (NAME.trialbook.json); the study is found in the database by its name')
    .option('--storage <url>', 'postgresql://USER:PASSWORD@HOST:PORT/DATABASE (default: storage in the study file)')
    .option('--n-trials <n>', 'trial budget of the whole study, all workers together (default: budget.maxTrials)', (v) => parsePositiveInt(v, '--n-trials'))
    .option('--heartbeat-timeout <s>', 'a running trial whose worker sent no heartbeat for this long is re-run by another worker', parseSeconds, 60)
    .option('--id <name>', 'worker name shown in the study (default: HOST:PID)')
    .option('--json', 'print JSON lines (one per event) instead of progress text')
    .action(async (file: string, opts: WorkerOptions) => {
      const loaded = loadStudy(file);
      const { study } = loaded;
      const storage = studyStorage(loaded, opts.storage);
      if (storage.kind !== 'postgres') {
        throw new UserError(`${loaded.file}: storage: a worker needs a shared PostgreSQL study: pass --storage postgresql://USER:PASSWORD@HOST:PORT/DATABASE or set "storage" in the study file (it is "journal")`, 'E_USAGE');
      }
      ctx.checkData(loaded);
      const budget = trialBudget(loaded, opts.nTrials);
      const policy = checkpointPolicy(study);
      const store = await openStore(loaded, { storage: storage.url });
      const id = workerIds(1, opts.id)[0]!;
      if (!opts.json) process.stdout.write(`worker ${id}: study ${study.name} at ${store.where}\n`);
      const outcome = await runStudy(loaded, store, {
        objective: ctx.objective,
        source: makeTuner(loaded, budget.maxTrials),
        parallel: 1,
        include: (t) => !seqlenTag(t),
        ...(budget.cap !== undefined ? { maxTrials: budget.cap } : {}),
        epochs: study.training.epochs,
        heartbeatTimeoutS: opts.heartbeatTimeout,
        workerId: id,
        ...(policy ? { checkpoints: policy } : {}),
        saveModels: true,
        retryFailed: 'fixable',
        quiet: !!opts.json,
        onEvent: opts.json ? (e) => process.stdout.write(JSON.stringify(e) + '\n') : runPrinter({ metric: study.objective.metric }),
      });
      const best = bestTrial(outcome.trials, study.objective.direction);
      const summary = {
        worker: id,
        study: study.name,
        stopped: outcome.reason,
        message: outcome.message,
        ran: outcome.ran.length,
        trials: outcome.trials.length,
        complete: outcome.trials.filter((t) => t.state === 'complete').length,
        failed: outcome.trials.filter((t) => t.state === 'failed' && !willRerun(t, study.budget.max_retries_per_trial)).length,
        best: best ? { trial: best.number, value: best.value, params: best.params } : null,
        claimMsMedian: median(outcome.claimMs),
      };
      if (opts.json) process.stdout.write(JSON.stringify({ type: 'summary', ...summary }) + '\n');
      else {
        process.stdout.write(`\nworker ${summary.worker}: ran ${summary.ran} trials — ${outcome.message}\nstudy ${study.name}: ${summary.trials} trials (${summary.complete} complete, ${summary.failed} failed)\n`);
        if (best) process.stdout.write(`best: trial ${best.number}, ${study.objective.metric} ${best.value!.toFixed(4)}\n`);
      }
      exitFor(outcome);
    });
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 100) / 100;
}
