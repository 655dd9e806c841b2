/**
 * `trialbook seqlen STUDY [--storage URL] [--lengths 64,128,256,512] [--repeats 5] [--params JSON] [--json]`
 *
 * Runs (or continues: runs already in the journal are kept) the sequence-length study and
 * prints per length mean ± std of val loss, accuracy, seconds per epoch and memory, Welch's
 * t-test against the best length, and a recommendation with its reason. With a shared study
 * (storage postgresql://…, or `--storage`) it runs as one worker of the study's sequence-length
 * runs: several machines may run `seqlen` at once and share the runs (seconds per epoch then
 * mix machines).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../../core/errors';
import { loadStudy, studyStateDir } from '../../core/study';
import { Params } from '../../protocol/messages';
import { openStore, studyStorage } from '../../store';
import { isEpochSummary } from '../../store/replay';
import type { StoredTrial } from '../../store/types';
import { checkDataBeforeTrials, makeObjective } from '../../runner/objective-factory';
import { attachStopSignals, formatMetric, parsePositiveInt, stopExitCode } from '../../runner/progress';
import { renderSeqlenMarkdown } from '../../runner/report';
import { fixedParams, SeqlenPlan, seqlenTag, summarizeSeqlen } from '../../runner/seqlen';
import { StudyRunner, type RunnerEvent, type StopReason } from '../../runner/study-runner';
import { asRunnerEvents, runShared } from '../shared-study';

interface SeqlenOptions {
  storage?: string;
  lengths?: number[];
  repeats?: number;
  params?: string;
  epochs?: number;
  json?: boolean;
}

function parseLengths(v: string): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 3 || x > 512)) throw new InvalidArgumentError(`--lengths must be whole numbers 3..512 separated by commas, got "${v}"`);
  return [...new Set(xs)].sort((a, b) => a - b);
}

function parseParams(text: string): Params {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--params: not valid JSON (${(e as Error).message})`, 'E_USAGE');
  }
  const r = Params.safeParse(json);
  if (!r.success) throw new UserError(`--params: expected an object of numbers, strings or booleans (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`, 'E_USAGE');
  return r.data;
}

function sameParams(a: Params, b: Params): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('max_seq_len');
  return [...keys].every((k) => a[k] === b[k]);
}

export function register(program: Command): void {
  program
    .command('seqlen')
    .description('sequence-length study: repeated runs per max_seq_len at fixed hyperparameters, with a recommendation')
    .argument('<study>', 'study file (NAME.trialbook.json)')
    .option('--storage <url>', 'run the sequence-length study of a study shared through PostgreSQL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE; default: storage in the study file) as one of its workers')
    .option('--lengths <list>', 'max_seq_len values, comma separated (default: seqlen.lengths of the study)', parseLengths)
    .option('--repeats <k>', 'runs per length with different seeds (default: seqlen.repeats)', (v) => parsePositiveInt(v, '--repeats'))
    .option('--params <json>', 'fixed hyperparameters (default: fixed values and midpoints of the search space)')
    .option('--epochs <n>', 'epochs per run (default: training.epochs)', (v) => parsePositiveInt(v, '--epochs'))
    .option('--json', 'print JSON lines while running and the summary as JSON')
    .action(async (file: string, opts: SeqlenOptions) => {
      const loaded = loadStudy(file);
      const { study } = loaded;
      const lengths = opts.lengths ?? [...study.seqlen.lengths].sort((a, b) => a - b);
      const repeats = opts.repeats ?? study.seqlen.repeats;
      const { params, how } = fixedParams(loaded, opts.params ? parseParams(opts.params) : {});
      const storage = studyStorage(loaded, opts.storage);
      checkDataBeforeTrials(loaded);
      const mine = (t: StoredTrial): boolean => {
        const tag = seqlenTag(t);
        return !!tag && lengths.includes(tag.maxLen) && tag.repeat < repeats && sameParams(t.params, params);
      };
      const out = (s: string): void => void process.stdout.write(s + '\n');
      if (!opts.json) out(`sequence-length study: lengths ${lengths.join(', ')}, ${repeats} runs each, fixed ${Object.entries(params).map(([k, v]) => `${k}=${v} (${how[k]})`).join(', ')}`);
      const onEvent = opts.json ? (e: RunnerEvent) => out(JSON.stringify(e)) : printer(out);
      let outcome: { reason: StopReason; trials: StoredTrial[] };
      if (storage.kind === 'postgres') {
        outcome = await runShared(loaded, {
          url: storage.url,
          parallel: 1,
          source: () => new SeqlenPlan(lengths, repeats, params, study.budget.max_retries_per_trial),
          include: mine,
          epochs: opts.epochs ?? study.training.epochs,
          heartbeatTimeoutS: 60,
          saveModels: false,
          quiet: !!opts.json,
          onOpen: (where) => {
            if (!opts.json) out(`shared study ${study.name} at ${where}`);
          },
          onEvent: (e) => {
            for (const r of asRunnerEvents(e)) onEvent(r);
          },
        });
      } else outcome = await runLocal();
      const summary = summarizeSeqlen(outcome.trials, lengths);
      if (opts.json) out(JSON.stringify({ type: 'summary', params, how, repeats, ...summary }));
      else out('\n' + renderSeqlenMarkdown(summary).join('\n'));
      if (outcome.reason === 'cancelled') process.exitCode = stopExitCode();

      async function runLocal(): Promise<{ reason: StopReason; trials: StoredTrial[] }> {
        const store = await openStore(loaded, { lockSignals: false });
        const runner = new StudyRunner({
          store,
          source: new SeqlenPlan(lengths, repeats, params, study.budget.max_retries_per_trial),
          objective: () => makeObjective(loaded),
          stateDir: studyStateDir(loaded),
          metric: study.objective.metric,
          direction: study.objective.direction,
          epochs: opts.epochs ?? study.training.epochs,
          baseSeed: study.data.seed,
          parallel: 1,
          maxRetries: study.budget.max_retries_per_trial,
          include: mine,
          onEvent,
        });
        const detach = attachStopSignals(runner, opts.json);
        try {
          return await runner.run();
        } finally {
          detach();
          await store.close();
        }
      }
    });
}

function printer(out: (s: string) => void): (e: RunnerEvent) => void {
  return (e) => {
    const tag = 'tag' in e ? (e.tag?.seqlen as { maxLen: number; repeat: number } | undefined) : undefined;
    if (e.type === 'trial-started') out(`run ${e.trial}: max_seq_len ${tag?.maxLen ?? e.params.max_seq_len}, repeat ${(tag?.repeat ?? 0) + 1}${e.resume ? ' (resumed)' : ''}`);
    else if (e.type === 'metric' && isEpochSummary(e.metric)) out(`  run ${e.trial} epoch ${e.metric.epoch}: ${formatMetric(e.metric)}`);
    else if (e.type === 'trial-finished') out(`run ${e.trial} complete: ${e.value.toFixed(4)}`);
    else if (e.type === 'trial-failed') out(`run ${e.trial} ${e.reason === 'cancelled' ? 'cancelled' : `failed (${e.reason})`}: ${e.message}`);
    else if (e.type === 'recovered') out(`resuming: run${e.trials.length > 1 ? 's' : ''} ${e.trials.join(', ')} stopped mid-run`);
  };
}
