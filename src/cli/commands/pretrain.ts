/**
 * `trialbook pretrain --input TEXTS --out DIR [--model PRESET|DIR] [--vocab FILE] ...`: masked-LM
 * pre-training on unlabelled texts (from scratch, or continuing a model folder on your own
 * domain's texts), in a worker process; writes a Hugging Face BERT folder with its MLM head that a
 * study fine-tunes as its `model`.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { checkMaxLen, parseQuoting } from '../../core/tokenizer';
import { PRECISIONS } from '../../core/study';
import type { PrecisionSetting } from '../../engine/precision';
import { runJobFromCli } from '../../worker/cli-run';
import type { PretrainJobResult } from '../../worker/jobs/pretrain';
import { intOption } from './tokenize';
import { MetricPrinter } from './train';

interface PretrainOptions {
  input: string;
  out: string;
  model: string;
  vocab?: string;
  textCol?: string;
  quoting?: string;
  lowercase?: boolean;
  stripAccents?: boolean;
  epochs: string;
  maxLen: string;
  batchSize: string;
  lr: string;
  warmup: string;
  maskProb: string;
  seed: string;
  precision: string;
  backend?: string;
  json?: boolean;
}

function numberOption(value: string, name: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new UserError(`${name}: ${JSON.stringify(value)} is not a number`, 'E_USAGE');
  return v;
}

function precisionOption(value: string): PrecisionSetting {
  if (!(PRECISIONS as readonly string[]).includes(value)) throw new UserError(`--precision: ${JSON.stringify(value)} is not one of ${PRECISIONS.join(', ')}`, 'E_USAGE');
  return value as PrecisionSetting;
}

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('Masked-LM pre-training on unlabelled texts (in a worker process); saves a BERT folder with its MLM head for a study to fine-tune')
    .requiredOption('--input <file>', 'texts: a .txt file (one per line) or a CSV/TSV file with a text column')
    .requiredOption('--out <dir>', 'model folder to write (config.json, model.safetensors, vocab.txt, tokenizer_config.json)')
    .option('--model <preset|dir>', 'a preset to train from scratch (tiny, mini, small) or a model folder to continue', 'mini')
    .option('--vocab <file>', "BERT vocab.txt (default: the model folder's)")
    .option('--text-col <name>', 'text column of a CSV/TSV file (default: document, else text, else the second column)')
    .option('--quoting <mode>', 'csv: quoted fields (default); none: quotes are plain text (NSMC-style TSV)', 'csv')
    .option('--lowercase', 'lowercase before WordPiece (uncased vocabs)')
    .option('--strip-accents', 'NFD + drop combining marks (uncased vocabs)')
    .option('--epochs <n>', 'passes over the texts', '3')
    .option('--max-len <n>', 'tokens per text with [CLS] and [SEP] (3-512)', '128')
    .option('--batch-size <n>', 'texts per optimizer step', '32')
    .option('--lr <x>', 'peak learning rate (AdamW, linear warm-up and decay)', '1e-4')
    .option('--warmup <n>', 'warm-up steps', '100')
    .option('--mask-prob <p>', "share of each text's tokens to predict", '0.15')
    .option('--seed <n>', 'seed of the initial weights, the masking and the order', '1')
    .option('--precision <p>', 'matmul precision: fp32, bf16 or auto', 'fp32')
    .option('--backend <name>', 'TensorFlow.js backend: tensorflow, wasm or cpu (default: best available)')
    .option('--json', 'print JSON lines (one per metric, then the result) instead of text')
    .action(async (o: PretrainOptions) => {
      const params = {
        learning_rate: numberOption(o.lr, '--lr'),
        warmup_steps: intOption(o.warmup, '--warmup'),
        batch_size: intOption(o.batchSize, '--batch-size'),
        epochs: intOption(o.epochs, '--epochs'),
        max_seq_len: checkMaxLen(intOption(o.maxLen, '--max-len'), '--max-len'),
        seed: intOption(o.seed, '--seed'),
        mask_probability: numberOption(o.maskProb, '--mask-prob'),
      };
      const out = new MetricPrinter(Boolean(o.json), params.epochs);
      const outcome = await runJobFromCli<PretrainJobResult>(
        {
          kind: 'pretrain',
          options: {
            input: resolve(o.input),
            textColumn: o.textCol,
            quoting: parseQuoting(o.quoting),
            model: o.model,
            vocab: o.vocab ? resolve(o.vocab) : undefined,
            lowercase: o.lowercase,
            stripAccents: o.stripAccents,
            out: resolve(o.out),
            params,
            precision: precisionOption(o.precision),
            backend: o.backend,
          },
        },
        out.handlers(),
      );
      out.endLine();
      if (!outcome.ok || !outcome.result) {
        process.exitCode = outcome.code;
        return;
      }
      const r = outcome.result;
      if (o.json) {
        const { curve: _curve, ...rest } = r;
        process.stdout.write(`${JSON.stringify({ type: 'result', ...rest })}\n`);
        return;
      }
      process.stdout.write(`best epoch ${r.bestEpoch}: masked-LM val_loss ${r.bestValLoss.toFixed(4)} (${r.train} texts trained, ${r.val} held out); backend ${r.backend}${r.matmul ? ` (matmuls on ${r.matmul})` : ''}, precision ${r.precision}, peak RSS ${r.peakRssMiB} MiB; model saved to ${r.savedTo}\n`);
    });
}
