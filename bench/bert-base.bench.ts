/**
 * The user's model: a BERT-base (KR-BERT char16424's config: 12 layers, hidden 768, 12 heads,
 * 3,072, vocab 16,424) from an HF folder, fine-tuned and scored the way `trialbook` runs it, side
 * by side with PyTorch at its best (thread settings, OPENBLAS_CORETYPE, bf16 autocast for the bf16
 * rows) in the same run:
 *   - training and inference examples/s at seq 128, batch 16 (fp32 and bf16);
 *   - the same on NSMC's real lengths (a sample of nsmc-dev: length-bucketed batches, each padded
 *     to its longest row), and the seconds one NSMC-size epoch (150,000 reviews) would take;
 *   - the frozen-feature pass over nsmc-dev (the encoder's [CLS] features, as a freeze_body study
 *     computes them once), extrapolated to its 20,000 reviews;
 *   - peak RSS of each measuring process.
 * TRIALBOOK_BENCH_BASE_STEPS (default 4) sets the timed steps of 16 at seq 128 (real lengths get
 * four times as many); TRIALBOOK_BENCH_BASE_PEER=0 skips PyTorch; TRIALBOOK_BENCH_BASE_BF16=0
 * skips the bf16 rows. Child mode (`--child JSON`) runs one measurement in a fresh process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { EncodedSplit } from '../src/core/encoded';
import { DEFAULTS } from '../src/core/params';
import { torchPeer, type TorchResult } from './peers/torch';
import { bertBaseConfig, forwardFlops, loadNsmc, machinePeak, peakRssMiB, r2, randomSplit, roofline, runChild, VOCAB } from './shared';
import { openblasCoreForPeers } from '../src/engine/native-blas';

const NSMC_EPOCH = 150_000;
const NSMC_DEV = 20_000;
const BATCH = 16;

interface BaseMeasure {
  /** fixed: seq 128 rows; nsmc: the real-length sample (training, inference and the feature pass). */
  what: 'fixed' | 'nsmc';
  dir: string;
  precision: 'fp32' | 'bf16';
  /** Rows trained per epoch (the second, warm epoch is timed) and scored. */
  rows: number;
}

/** Writes a BERT-base model folder with seeded weights (what a user's pretrained folder looks like to the engine). */
async function writeBaseFolder(dir: string): Promise<void> {
  const { seededValues } = await import('../src/engine/model');
  const { saveModelFolder } = await import('../src/engine/weights');
  const config = bertBaseConfig();
  saveModelFolder(dir, config, seededValues(config, 2, 1), 2, { labels: ['0', '1'], maxLen: 128 });
}

/** The real-length sample: rows of nsmc-dev in its seeded order, after the learning check's validation tenth. */
function nsmcSample(rows: number): EncodedSplit | undefined {
  const data = loadNsmc();
  if (!data) return undefined;
  const from = Math.round(data.order.length * 0.1);
  return data.split(data.order.subarray(from, from + rows), 128);
}

/** One measurement in this process. */
async function measure(m: BaseMeasure): Promise<Record<string, number | string>> {
  const engine = await import('../src/engine');
  const { loadClassifier } = await import('../src/engine/evaluate');
  const { scoreRows, pooledFeatures } = await import('../src/engine/score');
  const { withPrecision } = await import('../src/engine/precision');
  const { activationBudgetMiB } = await import('../src/engine/memory');
  const { matmulMacs } = await import('../src/engine/native-blas');
  const backend = await engine.initBackend();
  const data = m.what === 'fixed' ? randomSplit(m.rows, 128, 1) : nsmcSample(m.rows);
  if (!data) return { skipped: '../shared/data is absent' };
  const { isUserError } = await import('../src/core/errors');
  const params = { ...DEFAULTS, learning_rate: 2e-5, batch_size: BATCH, epochs: 2, max_seq_len: 128, seed: 1, patience: 10_000 };
  let r: Awaited<ReturnType<typeof engine.trainModel>>;
  try {
    r = await engine.trainModel({ model: m.dir, vocabSize: VOCAB, numLabels: 2, train: data, val: randomSplit(BATCH, 16, 2), precision: m.precision, params });
  } catch (e) {
    if (isUserError(e)) return { skipped: e.message }; // e.g. bf16 on a backend without it
    throw e;
  }
  const out: Record<string, number | string> = { backend: backend.name, matmul: backend.matmul ?? 'wasm kernels', precision: r.precision, rows: data.count, train_ex_s: r.curve[1].examples_per_sec!, micro_batch: r.microBatch };
  const { model } = loadClassifier(m.dir);
  try {
    await withPrecision(r.precision, async () => {
      const o = { budgetMiB: activationBudgetMiB(backend.name, model.config) };
      scoreRows(model, randomSplit(BATCH, 16, 3), o); // warm-up
      let t0 = performance.now();
      scoreRows(model, data, o);
      out.infer_ex_s = data.count / ((performance.now() - t0) / 1000);
      if (m.what === 'nsmc') {
        // The frozen-body pass: [CLS] features, as the feature cache computes them.
        t0 = performance.now();
        pooledFeatures(model, data, o);
        out.features_ex_s = data.count / ((performance.now() - t0) / 1000);
      }
    });
  } finally {
    model.dispose();
  }
  out.peak_rss_mib = peakRssMiB();
  // bf16 takes only the products large enough to gain (native/blas bf16_worth): how much it took.
  const macs = matmulMacs();
  if (macs.bf16 + macs.fp32 > 0) out.bf16_share_of_multiply_adds = r2(macs.bf16 / (macs.bf16 + macs.fp32));
  return out;
}

const child = (m: BaseMeasure) => runChild(__filename, m);

/** Ours and the peer's examples/s with their ratios. */
function row(ours: Record<string, number | string>, peer: TorchResult): Record<string, unknown> {
  const ratio = (a: unknown, b: number | undefined) => (typeof a === 'number' && b ? r2(a / b) : null);
  return {
    trialbook: ours,
    pytorch: peer,
    ratio_train: ratio(ours.train_ex_s, peer.train_ex_s),
    ratio_infer: ratio(ours.infer_ex_s, peer.infer_ex_s),
  };
}

export async function run(): Promise<object> {
  const steps = Number(process.env.TRIALBOOK_BENCH_BASE_STEPS) || 4;
  const withPeer = process.env.TRIALBOOK_BENCH_BASE_PEER !== '0';
  const precisions = process.env.TRIALBOOK_BENCH_BASE_BF16 === '0' ? (['fp32'] as const) : (['fp32', 'bf16'] as const);
  const work = mkdtempSync(join(tmpdir(), 'tb-bench-base-'));
  const dir = join(work, 'bert-base');
  const out: Record<string, unknown> = { steps, config: bertBaseConfig() };
  // The roofline: what the machine's matmuls can do at most, so the seq-128 rows also read as a
  // share of it, and the peer's as the most any engine could gain on it.
  const peak = machinePeak(openblasCoreForPeers());
  out.machine_peak = peak;
  const flops = forwardFlops(bertBaseConfig(), 128);
  try {
    await writeBaseFolder(dir);
    const sample = nsmcSample(steps * 4 * BATCH);
    const lengthsFile = join(work, 'lengths.json');
    if (sample) writeFileSync(lengthsFile, JSON.stringify(Array.from(sample.lengths)));
    const noPeer: TorchResult = { error: 'skipped (TRIALBOOK_BENCH_BASE_PEER=0)' };
    for (const precision of precisions) {
      const bf16 = precision === 'bf16';
      const fixed = await child({ what: 'fixed', dir, precision, rows: steps * BATCH });
      const fixedPeer = withPeer ? torchPeer({ preset: 'base', seq: 128, batch: BATCH, steps, bf16 }) : noPeer;
      const top = bf16 ? peak.bf16_gflop_s : peak.fp32_gflop_s;
      out[`seq128_b16_${precision}`] = {
        ...row(fixed, fixedPeer),
        roofline_train: roofline({ ours: Number(fixed.train_ex_s) || undefined, peer: fixedPeer.train_ex_s }, 3 * flops, top),
        roofline_infer: roofline({ ours: Number(fixed.infer_ex_s) || undefined, peer: fixedPeer.infer_ex_s }, flops, top),
      };
      if (!sample) {
        out[`nsmc_lengths_${precision}`] = { skipped: '../shared/data is absent' };
        continue;
      }
      const real = await child({ what: 'nsmc', dir, precision, rows: sample.count });
      const peer = withPeer ? torchPeer({ preset: 'base', seq: 128, batch: BATCH, steps: steps * 4, lengthsFile, bf16 }) : noPeer;
      const meanLength = Array.from(sample.lengths).reduce((a, b) => a + b, 0) / sample.count;
      out[`nsmc_lengths_${precision}`] = {
        ...row(real, peer),
        sample_rows: sample.count,
        sample_mean_tokens: r2(meanLength),
        nsmc_epoch_150k_s_extrapolated: Math.round(NSMC_EPOCH / Number(real.train_ex_s)),
        pytorch_nsmc_epoch_150k_s_extrapolated: peer.train_ex_s ? Math.round(NSMC_EPOCH / peer.train_ex_s) : null,
        frozen_features_nsmc_dev_s_extrapolated: Math.round(NSMC_DEV / Number(real.features_ex_s)),
      };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[2] === '--child') {
  measure(JSON.parse(process.argv[3]) as BaseMeasure).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
