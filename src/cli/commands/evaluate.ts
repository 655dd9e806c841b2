/**
 * `trialbook evaluate --model DIR --input FILE.tsv [--text-col C --label-col L] [--json]`:
 * scores a labelled file (or a study's test split) with a saved model, in a worker process.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { runJobFromCli } from '../../worker/cli-run';
import type { EvaluateJobResult } from '../../worker/jobs/evaluate';

interface EvaluateOptions {
  model: string;
  input?: string;
  study?: string;
  split?: string;
  textCol?: string;
  labelCol?: string;
  maxLen?: string;
  json?: boolean;
  backend?: string;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('Score a labelled file with a saved model: loss, accuracy, per-class precision/recall')
    .requiredOption('--model <dir>', 'model folder (config.json, model.safetensors, vocab.txt)')
    .option('--input <file>', 'labelled TSV/CSV file')
    .option('--text-col <name>', 'text column (default: text, document or sentence)')
    .option('--label-col <name>', 'label column (default: label)')
    .option('--study <file>', 'score a split of this study instead of --input')
    .option('--split <name>', 'with --study: test (default) or val')
    .option('--max-len <n>', 'tokens per row (default: the length the model was trained with)')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'TensorFlow.js backend: tensorflow, wasm or cpu')
    .action(async (o: EvaluateOptions) => {
      if (!o.input && !o.study) throw new UserError('evaluate: give --input FILE (or --study STUDY [--split test])', 'E_USAGE');
      if (o.input && o.study) throw new UserError('evaluate: give either --input or --study, not both', 'E_USAGE');
      if (o.split && o.split !== 'test' && o.split !== 'val') throw new UserError(`--split: "${o.split}" must be test or val`, 'E_USAGE');
      const outcome = await runJobFromCli<EvaluateJobResult>(
        {
          kind: 'evaluate',
          options: {
            model: resolve(o.model),
            input: o.input ? resolve(o.input) : undefined,
            study: o.study ? resolve(o.study) : undefined,
            split: o.split as 'test' | 'val' | undefined,
            textColumn: o.textCol,
            labelColumn: o.labelCol,
            maxLen: parseMaxLen(o.maxLen),
            backend: o.backend,
          },
        },
        { onLog: (level, text) => level !== 'debug' && process.stderr.write(`${level === 'info' ? '' : `${level}: `}${text}\n`) },
      );
      if (!outcome.ok || !outcome.result) {
        process.exitCode = outcome.code;
        return;
      }
      const r = outcome.result;
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const f = (x: number) => x.toFixed(4);
      const lines = [
        `${r.source}: ${r.count} rows, max_len ${r.maxLen}${r.truncated ? ` (${r.truncated} rows cut)` : ''}`,
        `loss ${f(r.loss)}  accuracy ${f(r.accuracy)}`,
        '',
        ['label', 'precision', 'recall', 'f1', 'support'].join('\t'),
        ...r.perClass.map((c) => [c.label, f(c.precision), f(c.recall), f(c.f1), String(c.support)].join('\t')),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

export function parseMaxLen(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 3 || n > 4096) throw new UserError(`--max-len: "${v}" must be a whole number from 3 to 4096`, 'E_USAGE');
  return n;
}
