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
import { parseParamsJson } from '../../core/params';
import { loadStudy } from '../../core/study';
import type { Params } from '../../protocol/messages';
import { openStore } from '../../store';
import type { StoredTrial } from '../../store/types';
import { renderSeqlenMarkdown } from '../../runner/report';
import { fixedParams, SeqlenPlan, seqlenTag, summarizeSeqlen } from '../../runner/seqlen';
import type { CommandContext } from '../context';
import { runPrinter } from '../run-printer';
import { exitFor, parsePositiveInt, runStudy } from '../study-run';

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

function sameParams(a: Params, b: Params): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('max_seq_len');
  return [...keys].every((k) => a[k] === b[k]);
}

export function register(program: Command, ctx: CommandContext): void {
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
      const { params, how } = fixedParams(loaded, opts.params ? parseParamsJson(opts.params) : {});
      const mine = (t: StoredTrial): boolean => {
        const tag = seqlenTag(t);
        return !!tag && lengths.includes(tag.maxLen) && tag.repeat < repeats && sameParams(t.params, params);
      };
      const out = (s: string): void => void process.stdout.write(s + '\n');
      if (!opts.json) out(`sequence-length study: lengths ${lengths.join(', ')}, ${repeats} runs each, fixed ${Object.entries(params).map(([k, v]) => `${k}=${v} (${how[k]})`).join(', ')}`);
      ctx.checkData(loaded);
      const store = await openStore(loaded, opts.storage ? { storage: opts.storage } : {});
      if (store.shared && !opts.json) out(`shared study ${study.name} at ${store.where}`);
      const outcome = await runStudy(loaded, store, {
        objective: ctx.objective,
        source: new SeqlenPlan(lengths, repeats, params, study.budget.max_retries_per_trial),
        parallel: 1,
        include: mine,
        epochs: opts.epochs ?? study.training.epochs,
        saveModels: false,
        retryFailed: 'fixable',
        quiet: !!opts.json,
        onEvent: opts.json ? (e) => out(JSON.stringify(e)) : runPrinter({ metric: study.objective.metric, noun: 'run', started: (e) => `run ${e.trial}: max_seq_len ${seqlenTag(e)?.maxLen ?? e.params.max_seq_len}, repeat ${(seqlenTag(e)?.repeat ?? 0) + 1}${e.resume ? ' (resumed)' : ''}` }),
      });
      const summary = summarizeSeqlen(outcome.trials, lengths);
      if (opts.json) out(JSON.stringify({ type: 'summary', params, how, repeats, ...summary }));
      else out('\n' + renderSeqlenMarkdown(summary).join('\n'));
      exitFor(outcome);
    });
}
