/**
 * `trialbook worker STUDY [--storage URL] [--n-trials N] [--heartbeat-timeout S] [--json]`
 *
 * One worker of a study shared through PostgreSQL. Start as many as you like, on as many
 * machines as you like (each needs the study file and its data): they claim trials atomically,
 * heart-beat while training, re-run the trials of workers that died, and leave when the study's
 * budget is spent and nothing is running anywhere.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../../core/errors';
import { loadStudy, toSearchSpace } from '../../core/study';
import { studyStorage } from '../../store';
import { isEpochSummary } from '../../store/replay';
import type { PgWorkerEvent } from '../../store/postgres';
import { checkDataBeforeTrials } from '../../runner/objective-factory';
import { checkpointPolicy } from '../../runner/promotions';
import { bestTrial, willRerun } from '../../runner/study-runner';
import { seqlenTag } from '../../runner/seqlen';
import { makeTuner } from '../../runner/tuner-source';
import { formatMetric, formatParams, parsePositiveInt, stopExitCode } from '../../runner/progress';
import { describeCheckpoint, runShared, sharedBudget } from '../shared-study';

interface WorkerOptions {
  storage?: string;
  nTrials?: number;
  heartbeatTimeout: number;
  json?: boolean;
  id?: string;
}

function parseSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`--heartbeat-timeout must be a number of seconds > 0, got "${v}"`);
  return n;
}

export function register(program: Command): void {
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
      checkDataBeforeTrials(loaded);
      const budget = sharedBudget(loaded, opts.nTrials);
      const print = opts.json ? (e: PgWorkerEvent) => process.stdout.write(JSON.stringify(e) + '\n') : printer(study.objective.metric);
      const outcome = await runShared(loaded, {
        url: storage.url,
        parallel: 1,
        source: () => makeTuner(loaded, toSearchSpace(study.searchSpace), budget.maxTrials),
        include: (t) => !seqlenTag(t),
        ...(budget.cap !== undefined ? { maxTrials: budget.cap } : {}),
        epochs: study.training.epochs,
        heartbeatTimeoutS: opts.heartbeatTimeout,
        ...(opts.id ? { id: opts.id } : {}),
        ...(checkpointPolicy(study) ? { checkpoints: checkpointPolicy(study)! } : {}),
        saveModels: true,
        onEvent: (e) => print(e),
        onOpen: (where, ids) => {
          if (!opts.json) process.stdout.write(`worker ${ids[0]}: study ${study.name} at ${where}\n`);
        },
      });
      const best = bestTrial(outcome.trials, study.objective.direction);
      const summary = {
        worker: outcome.workers[0],
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
      if (outcome.reason === 'failures') throw new UserError(outcome.message, 'E_TRIALS_FAILED');
      if (outcome.reason === 'cancelled') process.exitCode = stopExitCode();
    });
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 100) / 100;
}

function printer(metric: string): (e: PgWorkerEvent) => void {
  const out = (s: string): void => void process.stdout.write(s + '\n');
  return (e) => {
    switch (e.type) {
      case 'claimed':
        out(`trial ${e.trial}${e.attempt > 1 ? ` attempt ${e.attempt}` : ''}${e.resume ? ' resumed' : ''}: ${formatParams(e.params)}, ${e.epochs} epochs`);
        break;
      case 'metric':
        if (isEpochSummary(e.metric)) out(`  trial ${e.trial} epoch ${e.metric.epoch}: ${formatMetric(e.metric)}`);
        break;
      case 'finished':
        out(`trial ${e.trial} complete: ${metric} ${e.value.toFixed(4)}`);
        break;
      case 'pruned':
        out(`trial ${e.trial} pruned after epoch ${e.epoch}`);
        break;
      case 'failed':
        out(`trial ${e.trial} ${e.reason === 'cancelled' ? 'cancelled' : `failed (${e.reason})`}: ${e.message.split('\n')[0]}`);
        break;
      case 'lost':
        out(`trial${e.trials.length > 1 ? 's' : ''} ${e.trials.join(', ')}: worker stopped heart-beating; marked failed (heartbeat lost) to be re-run`);
        break;
      case 'taken-over':
        out(`trial ${e.trial}: taken over by another worker while this one was unreachable; its result here is dropped`);
        break;
      case 'checkpoint':
      case 'checkpoint-stored':
        out(describeCheckpoint(e)!);
        break;
      case 'warning':
        process.stderr.write(`trialbook: warning: ${e.message}\n`);
        break;
      case 'checkpoints-dropped':
      case 'waiting':
      case 'stopped':
        break;
    }
  };
}
