/**
 * `trialbook train STUDY [--params JSON] [--save DIR] [--json] [--backend NAME]`: one trial of
 * the study, run in a worker process (never in the CLI process), with live metrics.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadStudy } from '../../core/study';
import type { Metric } from '../../protocol/messages';
import { parseParamsJson, resolveParams, type TrainParams } from '../../core/params';
import { runJobFromCli } from '../../worker/cli-run';
import type { JobHandlers } from '../../worker/client';
import { trialJobInput, type TrialJobResult } from '../../worker/jobs/trial-types';

interface TrainOptions {
  params?: string;
  save?: string;
  json?: boolean;
  backend?: string;
  test?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train one model with the study\'s settings (in a worker process) and print its metrics')
    .argument('<study>', 'study file (NAME.trialbook.json)')
    .option('--params <json>', 'hyperparameters overriding the study, e.g. \'{"learning_rate":5e-5,"epochs":1}\'')
    .option('--save <dir>', 'save the best epoch\'s model here (config.json, model.safetensors, vocab.txt, labels)')
    .option('--json', 'print JSON lines (one per metric, then the result) instead of text')
    .option('--backend <name>', 'TensorFlow.js backend: tensorflow, wasm or cpu (default: best available)')
    .option('--test', 'also score the test split with the best model (never used for selection)')
    .action(async (studyPath: string, o: TrainOptions) => {
      const loaded = loadStudy(studyPath);
      const given = o.params !== undefined ? parseParamsJson(o.params) : {};
      // Fails here, before a worker starts, on a bad name or value in --params or the study.
      const { params } = resolveParams(loaded.study, loaded.file, given);
      const out = new MetricPrinter(Boolean(o.json), params.epochs);
      if (!o.json) process.stderr.write(`training ${loaded.study.name}: ${describe(params)}\n`);
      const outcome = await runJobFromCli<TrialJobResult>(
        trialJobInput(loaded, params, { saveTo: o.save ? resolve(o.save) : undefined, backend: o.backend, evaluateTest: o.test }),
        out.handlers(),
      );
      out.endLine();
      if (!outcome.ok || !outcome.result) {
        process.exitCode = outcome.code;
        return;
      }
      out.summary(outcome.result, params);
    });
}

function describe(p: object): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The engine's end-of-epoch metric is the one carrying validation scores (it may also carry `step`). */
const isEpochEnd = (m: Metric) => m.val_loss !== null && m.val_loss !== undefined;

const fmt = (v: number | null | undefined, digits = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');

/** Text on a terminal (live step line, one line per epoch), JSON lines with --json (train, pretrain). */
export class MetricPrinter {
  private live = false;
  private readonly tty = Boolean(process.stdout.isTTY);

  constructor(private readonly json: boolean, private readonly epochs: number) {}

  /** A job's metrics, progress and logs printed here (debug logs only with TRIALBOOK_DEBUG). */
  handlers(): JobHandlers {
    return {
      onMetric: (m) => this.metric(m),
      onProgress: (p) => this.progress(p.done, p.total, p.message),
      onLog: (level, text) => {
        if (level !== 'debug' || process.env.TRIALBOOK_DEBUG) this.log(level, text);
      },
    };
  }

  metric(m: Metric): void {
    if (this.json) {
      const line = { type: 'metric', kind: isEpochEnd(m) ? 'epoch' : 'step', epoch: m.epoch, step: m.step, train_loss: m.train_loss ?? null, val_loss: m.val_loss ?? null, val_accuracy: m.val_accuracy ?? null, learning_rate: m.learning_rate, examples_per_sec: m.examples_per_sec, elapsed_s: m.elapsed_s };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      return;
    }
    const head = `epoch ${m.epoch}/${this.epochs}`;
    const speed = m.examples_per_sec ? `  ${m.examples_per_sec.toFixed(1)} ex/s` : '';
    const time = m.elapsed_s !== undefined ? `  ${m.elapsed_s.toFixed(1)} s` : '';
    if (!isEpochEnd(m)) {
      // Live line within an epoch: rewritten in place on a terminal, skipped when piped.
      if (!this.tty) return;
      const lr = m.learning_rate !== undefined ? `  lr ${m.learning_rate.toExponential(2)}` : '';
      process.stdout.write(`\r\x1b[K${head}  step ${m.step ?? '-'}  train_loss ${fmt(m.train_loss)}${lr}${speed}${time}`);
      this.live = true;
      return;
    }
    this.endLine();
    process.stdout.write(`${head}  train_loss ${fmt(m.train_loss)}  val_loss ${fmt(m.val_loss)}  val_accuracy ${fmt(m.val_accuracy)}${speed}${time}\n`);
  }

  progress(done: number, total: number | undefined, message: string | undefined): void {
    if (this.json || !this.tty || !message) return;
    const bar = total ? ` [${'#'.repeat(Math.round((20 * done) / total)).padEnd(20, '.')}]` : '';
    process.stdout.write(`\r\x1b[K${message}${bar}`);
    this.live = true;
  }

  log(level: string, text: string): void {
    this.endLine();
    if (this.json) process.stderr.write(`${JSON.stringify({ type: 'log', level, text })}\n`);
    else process.stderr.write(`${level === 'info' ? '' : `${level}: `}${text}\n`);
  }

  endLine(): void {
    if (this.live) process.stdout.write('\r\x1b[K');
    this.live = false;
  }

  summary(r: TrialJobResult, params: TrainParams): void {
    if (this.json) {
      const { curve: _curve, ...rest } = r;
      process.stdout.write(`${JSON.stringify({ type: 'result', ...rest, params })}\n`);
      return;
    }
    const parts = [
      `best epoch ${r.bestEpoch}: val_loss ${fmt(r.bestValLoss)}, val_accuracy ${fmt(r.bestValAccuracy)}`,
      `${r.epochsRun} epoch${r.epochsRun === 1 ? '' : 's'}${r.stoppedEarly ? ' (stopped early)' : ''}, ${r.secondsPerEpoch.toFixed(1)} s/epoch`,
      `backend ${r.backend}${r.matmul ? ` (matmuls on ${r.matmul})` : ''}, precision ${r.precision}, batch ${params.batch_size}${r.accumulationSteps > 1 ? ` = ${r.accumulationSteps}×${r.microBatch}` : ''}, peak RSS ${Math.round(r.peakRssMiB)} MiB`,
    ];
    let line = parts.join('; ');
    if (r.test) line += `; test accuracy ${fmt(r.test.accuracy)} (loss ${fmt(r.test.loss)}, ${r.test.count} rows)`;
    if (r.savedTo) line += `; model saved to ${r.savedTo}`;
    process.stdout.write(`${line}\n`);
  }
}
