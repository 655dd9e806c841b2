/**
 * Learning check on a pre-trained body: does masked-LM pre-training (`trialbook pretrain`) on
 * the reviews' own texts make `mini`/`small` beat the same model trained from scratch, and the
 * naive-Bayes line, on nsmc-dev's validation split? Three fine-tuning seeds of each.
 *
 *   node --import tsx bench/pretrain-check.ts [--presets mini,small] [--scale full|small]
 *                                             [--pretrain-epochs N] [--finetune-epochs N]
 *
 * nsmc-dev (20,000 reviews, KR-BERT char ids) is split as the engine benchmark's learning check
 * splits it: a seeded tenth for validation. Pre-training reads only the training texts (their
 * labels unused), so the validation reviews stay unseen. Fine-tuning uses each arm's own
 * learning rate (a pre-trained body wants a gentler one); everything else is shared.
 * `--scale small` (2,000 training and 500 validation reviews, one epoch each, one seed) only
 * checks that the script runs; the epoch flags shorten a scale's pre-training or fine-tuning
 * (full pre-trains for 10 epochs: hours on 2 cores). Prints one JSON object; runs at most one
 * training per core.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mean, std } from '../src/tuners/stats';
import { DEFAULTS } from '../src/core/params';
import { loadNsmc, r4, runChild, VOCAB, type Nsmc } from './shared';

const MAX_LEN = 64;
const KRBERT_VOCAB = resolve(__dirname, '..', '..', 'shared', 'models', 'krbert-char16424', 'vocab.txt');

interface Scale {
  train: number;
  val: number;
  pretrainEpochs: number;
  finetuneEpochs: number;
  seeds: number[];
}
const SCALES: Record<string, Scale> = {
  full: { train: Infinity, val: Infinity, pretrainEpochs: 10, finetuneEpochs: 3, seeds: [1, 2, 3] },
  small: { train: 2000, val: 500, pretrainEpochs: 1, finetuneEpochs: 1, seeds: [1] },
};

/** Fine-tuning settings per preset: from scratch as the engine benchmark's sweep found best; a pre-trained body at a lower peak. */
const FINETUNE: Record<string, { scratch: { lr: number; warmup: number }; pretrained: { lr: number; warmup: number }; hiddenDropout: number }> = {
  mini: { scratch: { lr: 3e-4, warmup: 500 }, pretrained: { lr: 1e-4, warmup: 200 }, hiddenDropout: 0.2 },
  small: { scratch: { lr: 2e-4, warmup: 500 }, pretrained: { lr: 5e-5, warmup: 200 }, hiddenDropout: 0.2 },
};

type Job =
  | { what: 'pretrain'; preset: string; out: string; epochs: number; scale: string }
  | { what: 'finetune'; model: string; preset: string; seed: number; lr: number; warmup: number; hiddenDropout: number; epochs: number; scale: string };

/** Rows of the learning check's split of nsmc-dev (a seeded tenth held out), cut to the scale. */
function rows(scale: Scale): { data: Nsmc; train: Int32Array; val: Int32Array } {
  const data = loadNsmc();
  if (!data) throw new Error('../shared/data is absent: this check needs nsmc-dev');
  const nVal = Math.round(data.order.length * 0.1);
  return { data, val: data.order.subarray(0, Math.min(nVal, scale.val)), train: data.order.subarray(nVal, nVal + Math.min(data.order.length - nVal, scale.train)) };
}

/** Character unigram+bigram multinomial naive Bayes (Laplace smoothing) on the same split: the classic baseline for NSMC. */
function naiveBayes(scale: Scale): number {
  const { data, train, val } = rows(scale);
  const features = (text: string) => {
    const s = text.replace(/\s+/g, ' ');
    const out: string[] = [];
    for (let i = 0; i < s.length; i++) {
      out.push(s[i]);
      if (i + 1 < s.length) out.push(s.slice(i, i + 2));
    }
    return out;
  };
  const counts = [new Map<string, number>(), new Map<string, number>()];
  const totals = [0, 0];
  const docs = [0, 0];
  const vocab = new Set<string>();
  for (const r of train) {
    const y = data.label(r);
    docs[y]++;
    for (const f of features(data.texts[r])) {
      counts[y].set(f, (counts[y].get(f) ?? 0) + 1);
      totals[y]++;
      vocab.add(f);
    }
  }
  let correct = 0;
  for (const r of val) {
    const score = [0, 1].map((y) => Math.log(docs[y] / train.length) + features(data.texts[r]).reduce((s, f) => s + Math.log(((counts[y].get(f) ?? 0) + 1) / (totals[y] + vocab.size)), 0));
    if ((score[1] > score[0] ? 1 : 0) === data.label(r)) correct++;
  }
  return correct / val.length;
}

async function runJob(job: Job): Promise<Record<string, number | string>> {
  const { data, train: trainRows, val: valRows } = rows(SCALES[job.scale]);
  const train = data.split(trainRows, MAX_LEN);
  const val = data.split(valRows, MAX_LEN);
  if (job.what === 'pretrain') {
    const { pretrainModel } = await import('../src/engine/pretrain');
    const { loadVocab } = await import('../src/core/tokenizer');
    const vocab = loadVocab(KRBERT_VOCAB);
    const mask = vocab.ids.get('[MASK]')!;
    const t0 = performance.now();
    // Pre-training reads the training reviews only: the held-out ones stay unseen.
    const r = await pretrainModel({ model: job.preset, vocabSize: VOCAB, texts: train, special: [vocab.pad, vocab.unk, vocab.cls, vocab.sep, mask], maskId: mask, params: { learning_rate: 5e-4, warmup_steps: 500, batch_size: 64, epochs: job.epochs, max_seq_len: MAX_LEN, seed: 1 }, saveTo: job.out, vocabPath: KRBERT_VOCAB });
    return { preset: job.preset, epochs: job.epochs, mlm_val_loss_by_epoch: r.curve.map((c) => c.val_loss!.toFixed(4)).join(' '), mlm_val_accuracy_by_epoch: r.curve.map((c) => c.val_accuracy!.toFixed(4)).join(' '), seconds: (performance.now() - t0) / 1000 };
  }
  const { trainModel } = await import('../src/engine');
  const t0 = performance.now();
  const r = await trainModel({ model: job.model, vocabSize: VOCAB, numLabels: 2, train, val, encoderDropout: { hidden_dropout_prob: job.hiddenDropout }, params: { ...DEFAULTS, learning_rate: job.lr, warmup_steps: job.warmup, dropout_rate: 0.2, batch_size: 32, epochs: job.epochs, max_seq_len: MAX_LEN, seed: job.seed, patience: 10_000 } });
  return { seed: job.seed, learning_rate: job.lr, best_val_accuracy: r.bestValAccuracy, best_val_loss: r.bestValLoss, val_accuracy_by_epoch: r.curve.map((c) => c.val_accuracy!.toFixed(4)).join(' '), seconds: (performance.now() - t0) / 1000 };
}

/** Maps `items` through `fn`, at most `limit` at a time. */
async function bounded<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

async function main(): Promise<void> {
  const arg = (name: string, d: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : d;
  };
  const scaleName = arg('--scale', 'full');
  const base = SCALES[scaleName];
  if (!base) throw new Error(`--scale: ${scaleName} is not one of ${Object.keys(SCALES).join(', ')}`);
  const epochs = (flag: string, d: number) => {
    const n = Number(arg(flag, String(d)));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a whole number ≥ 1`);
    return n;
  };
  const scale = { ...base, pretrainEpochs: epochs('--pretrain-epochs', base.pretrainEpochs), finetuneEpochs: epochs('--finetune-epochs', base.finetuneEpochs) };
  const presets = arg('--presets', 'mini,small').split(',');
  const work = mkdtempSync(join(tmpdir(), 'tb-pretrain-check-'));
  // One BLAS thread per training, one training per core.
  const one = { TRIALBOOK_BLAS_THREADS: '1' };
  const out: Record<string, unknown> = { scale: scaleName, pretrain_epochs: scale.pretrainEpochs, finetune_epochs: scale.finetuneEpochs, max_len: MAX_LEN, naive_bayes_val_accuracy: r4(naiveBayes(scale)) };
  try {
    const pretrained = await bounded(presets, cpus().length, (preset) => runChild(__filename, { what: 'pretrain', preset, out: join(work, preset), epochs: scale.pretrainEpochs, scale: scaleName }, one));
    for (const [k, preset] of presets.entries()) {
      const f = FINETUNE[preset];
      const arms = { from_scratch: { model: preset, ...f.scratch }, pretrained: { model: join(work, preset), ...f.pretrained } };
      const row: Record<string, unknown> = { pretraining: pretrained[k] };
      for (const [arm, a] of Object.entries(arms)) {
        const runs = await bounded(scale.seeds, cpus().length, (seed) => runChild(__filename, { what: 'finetune', model: a.model, preset, seed, lr: a.lr, warmup: a.warmup, hiddenDropout: f.hiddenDropout, epochs: scale.finetuneEpochs, scale: scaleName }, one));
        const acc = runs.map((r) => Number(r.best_val_accuracy));
        row[arm] = { runs, mean_best_val_accuracy: r4(mean(acc)), std_best_val_accuracy: r4(std(acc)), mean_best_val_loss: r4(mean(runs.map((r) => Number(r.best_val_loss)))) };
      }
      out[preset] = row;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[2] === '--child') runJob(JSON.parse(process.argv[3]) as Job).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
else main().catch((e) => {
  process.stderr.write(`pretrain-check: ${(e as Error).message}\n`);
  process.exit(1);
});
