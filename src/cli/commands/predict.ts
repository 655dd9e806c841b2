/**
 * `trialbook predict --model DIR --input FILE [--text-col C] [--out FILE]`: a label and its
 * probability for every row, written as TSV (input columns + predicted_label + probability) or,
 * for a `.jsonl` output, JSON lines. Without --out the TSV goes to stdout.
 */
import type { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertOutputFile } from '../../core/fsutil';
import { runJobFromCli } from '../../worker/cli-run';
import type { PredictJobResult } from '../../worker/jobs/predict';
import { parseMaxLen } from './evaluate';

interface PredictOptions {
  model: string;
  input: string;
  textCol?: string;
  out?: string;
  maxLen?: string;
  backend?: string;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('Label every row of a file with a saved model (label and probability per row)')
    .requiredOption('--model <dir>', 'model folder (config.json, model.safetensors, vocab.txt)')
    .requiredOption('--input <file>', 'TSV/CSV file with a text column')
    .option('--text-col <name>', 'text column (default: text, document or sentence)')
    .option('--out <file>', 'output file: .jsonl for JSON lines, else TSV (default: TSV on stdout)')
    .option('--max-len <n>', 'tokens per row (default: the length the model was trained with)')
    .option('--backend <name>', 'TensorFlow.js backend: tensorflow, wasm or cpu')
    .action(async (o: PredictOptions) => {
      if (o.out) assertOutputFile(o.out, '--out');
      const tmp = o.out ? undefined : mkdtempSync(join(tmpdir(), 'tb-predict-'));
      const out = o.out ? resolve(o.out) : join(tmp!, 'predictions.tsv');
      try {
        const outcome = await runJobFromCli<PredictJobResult>(
          {
            kind: 'predict',
            options: { model: resolve(o.model), input: resolve(o.input), out, textColumn: o.textCol, maxLen: parseMaxLen(o.maxLen), backend: o.backend },
          },
          { onLog: (level, text) => level !== 'debug' && process.stderr.write(`${level === 'info' ? '' : `${level}: `}${text}\n`) },
        );
        if (!outcome.ok || !outcome.result) {
          process.exitCode = outcome.code;
          return;
        }
        const r = outcome.result;
        if (tmp) process.stdout.write(readFileSync(out));
        const counts = Object.entries(r.counts).map(([l, n]) => `${l} ${n}`).join(', ');
        process.stderr.write(`${r.rows} rows labelled (${counts})${r.truncated ? `; ${r.truncated} rows cut at ${r.maxLen} tokens` : ''}${tmp ? '' : ` → ${r.out}`}\n`);
      } finally {
        if (tmp) rmSync(tmp, { recursive: true, force: true });
      }
    });
}
