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
import { loadStudy, studyStateDir, toSearchSpace } from '../../core/study';
import { isEpochSummary } from '../../store/replay';
import { isPostgresUrl, openPostgresStudy, PgWorker, redactUrl, type PgWorkerEvent } from '../../store/postgres';
import { bestTrial, willRerun } from '../../runner/study-runner';
import { makeObjective } from '../../runner/objective-factory';
import { seqlenTag } from '../../runner/seqlen';
import { makeTuner } from '../../runner/tuner-source';
import { formatMetric, formatParams, parsePositiveInt } from '../../runner/progress';

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
      const url = opts.storage ?? study.storage;
      if (!isPostgresUrl(url)) {
        throw new UserError(`${loaded.file}: storage: a worker needs a shared PostgreSQL study: pass --storage postgresql://USER:PASSWORD@HOST:PORT/DATABASE or set "storage" in the study file (it is ${JSON.stringify(redactUrl(url))})`, 'E_USAGE');
      }
      const store = await openPostgresStudy(url, loaded);
      const maxTrials = opts.nTrials ?? study.budget.maxTrials;
      // Same budget rules as `tune`: runs per configuration, Hyperband's own plan unless capped.
      const runsPerConfig = study.tuner.type === 'asha' ? 1 : study.budget.repeats;
      const cap = study.tuner.type === 'hyperband' ? opts.nTrials : maxTrials * runsPerConfig;
      const worker = new PgWorker({
        store,
        source: makeTuner(loaded, toSearchSpace(study.searchSpace), maxTrials),
        objective: makeObjective(loaded),
        stateDir: studyStateDir(loaded),
        metric: study.objective.metric,
        direction: study.objective.direction,
        epochs: study.training.epochs,
        baseSeed: study.data.seed,
        ...(cap !== undefined ? { maxTrials: cap } : {}),
        maxRetries: study.budget.max_retries_per_trial,
        maxConsecutiveFailures: study.budget.max_consecutive_failed_trials,
        heartbeatTimeoutS: opts.heartbeatTimeout,
        include: (t) => !seqlenTag(t),
        ...(opts.id ? { workerId: opts.id } : {}),
        onEvent: opts.json ? (e) => process.stdout.write(JSON.stringify(e) + '\n') : printer(study.objective.metric),
      });
      if (!opts.json) process.stdout.write(`worker ${worker.id}: study ${study.name} at ${store.where}\n`);
      const onSignal = (sig: NodeJS.Signals): void => {
        if (worker.isStopping) process.exit(130);
        process.stderr.write(`\ntrialbook: ${sig}: cancelling the running trial (another worker re-runs it) and stopping\n`);
        worker.stop('cancelled', `stopped by ${sig}`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const outcome = await worker.run();
        const trials = (await store.trials()).filter((t) => !seqlenTag(t));
        const best = bestTrial(trials, study.objective.direction);
        const summary = {
          worker: worker.id,
          study: study.name,
          stopped: outcome.reason,
          message: outcome.message,
          ran: outcome.ran.length,
          trials: trials.length,
          complete: trials.filter((t) => t.state === 'complete').length,
          failed: trials.filter((t) => t.state === 'failed' && !willRerun(t, study.budget.max_retries_per_trial)).length,
          best: best ? { trial: best.number, value: best.value, params: best.params } : null,
          claimMsMedian: median(outcome.claimMs),
        };
        if (opts.json) process.stdout.write(JSON.stringify({ type: 'summary', ...summary }) + '\n');
        else {
          process.stdout.write(`\nworker ${summary.worker}: ran ${summary.ran} trials — ${outcome.message}\nstudy ${study.name}: ${summary.trials} trials (${summary.complete} complete, ${summary.failed} failed)\n`);
          if (best) process.stdout.write(`best: trial ${best.number}, ${study.objective.metric} ${best.value!.toFixed(4)}\n`);
        }
        if (outcome.reason === 'failures') throw new UserError(outcome.message, 'E_TRIALS_FAILED');
        if (outcome.reason === 'cancelled') process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await store.close();
      }
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
      case 'waiting':
      case 'stopped':
        break;
    }
  };
}
