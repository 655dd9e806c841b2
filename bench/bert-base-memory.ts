/**
 * The memory of BERT-base fine-tuning (KR-BERT char16424's config) at batch 32, per max_len: the
 * micro-batch the engine chooses, its accumulation steps, and what the process and the wasm heap
 * really took. Every row is max_len tokens long (the worst case of a split at that max_len); each
 * max_len trains in its own process from a BERT-base folder in HF layout, as `trialbook train` runs.
 *
 *   node --import tsx bench/bert-base-memory.ts [--max-len 64,128,256,512] [--steps 1] [--bf16]
 *   node --import tsx bench/bert-base-memory.ts --calibrate
 *
 * `--calibrate` measures the tensor high-water mark on the wasm heap (testing/wasm-heap.ts) of
 * training micro-batches and forward passes at several lengths — what each example adds, and what
 * a training pass holds whatever its rows — beside what src/engine/memory.ts estimates: the
 * figures test/engine/memory-model.test.ts keeps (TRIALBOOK_NATIVE_BLAS=0: the wasm kernels alone).
 * Prints one JSON object. Timings on a shared machine are not results.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../src/core/params';
import { bertBaseConfig, peakRssMiB, randomSplit, r2, runChild } from './shared';

const BATCH = 32;
const MiB = 1048576;

/** One measurement, in a child process of its own. */
type Job = { what: 'write'; dir: string } | { what: 'train'; dir: string; maxLen: number; steps: number; bf16: boolean } | { what: 'calibrate'; rows: number; seqLen: number; single?: boolean };

async function job(j: Job): Promise<Record<string, unknown>> {
  const engine = await import('../src/engine');
  const backend = await engine.initBackend();
  const { WasmHeapWatch, passPeakBytes } = await import('../testing/wasm-heap');
  const memory = await import('../src/engine/memory');
  const c = bertBaseConfig();
  if (j.what === 'write') {
    const { seededValues } = await import('../src/engine/model');
    const { saveModelFolder } = await import('../src/engine/weights');
    saveModelFolder(j.dir, c, seededValues(c, 2, 1), 2, { labels: ['0', '1'], maxLen: 512 });
    return { ok: true };
  }
  const watch = new WasmHeapWatch();
  watch.mark();
  if (j.what === 'train') {
    const t0 = performance.now();
    const r = await engine.trainModel({
      model: j.dir, vocabSize: c.vocab_size, numLabels: 2, precision: j.bf16 ? 'bf16' : 'fp32',
      train: randomSplit(BATCH * j.steps, j.maxLen, 1), val: randomSplit(8, 16, 2),
      params: { ...DEFAULTS, learning_rate: 2e-5, batch_size: BATCH, epochs: 1, max_seq_len: j.maxLen, seed: 1, patience: 10_000 },
    });
    const budget = memory.activationBudgetMiB(backend.name, c);
    return {
      max_len: j.maxLen,
      precision: r.precision,
      micro_batch: r.microBatch,
      accumulation_steps: r.accumulationSteps,
      budget_mib: Math.round(budget),
      estimated_activations_mib: Math.round((r.microBatch * memory.activationBytesPerExample(c, j.maxLen)) / MiB),
      tensor_peak_mib: Math.round(watch.peakBytes() / MiB),
      wasm_heap_mib: Math.round(watch.heapMiB()),
      peak_rss_mib: peakRssMiB(),
      train_ex_s: r2(r.curve[0].examples_per_sec!),
      seconds: Math.round((performance.now() - t0) / 1000),
    };
  }
  // Training passes (gradients of every parameter) of `rows` and, unless `single`, twice as many
  // rows: the difference is what each example adds, the rest what a pass holds whatever its rows.
  const { BertClassifier } = await import('../src/engine/model');
  const model = BertClassifier.fromSeed(c, 2, 1);
  const gradBytes = [...model.vars.values()].reduce((n, v) => n + v.size * 4, 0);
  const S = j.seqLen;
  const pass = (rows: number, train: boolean): number => passPeakBytes(watch, model, rows, S, train);
  const one = pass(j.rows, true) - gradBytes;
  const perExample = j.single ? one / j.rows : (pass(2 * j.rows, true) - gradBytes - one) / j.rows;
  const forward = pass(2 * j.rows, false) / (2 * j.rows);
  return {
    rows: j.single ? [j.rows] : [j.rows, 2 * j.rows],
    seq_len: S,
    kernels: memory.kernelsInUse(),
    train_per_example_mib: r2(perExample / MiB),
    train_per_pass_mib: j.single ? null : r2((one - j.rows * perExample) / MiB),
    train_model_mib: r2(memory.activationBytesPerExample(c, S) / MiB),
    train_model_over_measured: r2(memory.activationBytesPerExample(c, S) / perExample),
    forward_per_example_mib: r2(forward / MiB),
    forward_model_mib: r2(memory.forwardBytesPerExample(c, S) / MiB),
    forward_model_over_measured: r2(memory.forwardBytesPerExample(c, S) / forward),
  };
}

/** A child's result, or what stopped it (a wasm abort past the 4 GiB heap ends the process). */
const child = (j: Job) => runChild(__filename, j).catch((e: Error) => ({ ...j, error: e.message }));

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main(): Promise<void> {
  const out: Record<string, unknown> = { note: 'busy shared machine: timings are not results' };
  if (process.argv.includes('--calibrate')) {
    // BERT-base at 512 tokens: two rows' training pass does not fit the 4 GiB heap.
    const points = [[8, 24], [4, 32], [2, 64], [1, 128], [1, 256], [1, 512, 1]];
    out.calibration = [];
    for (const [rows, seqLen, single] of points) (out.calibration as unknown[]).push(await child({ what: 'calibrate', rows, seqLen, single: single === 1 }));
  } else {
    const lengths = (arg('--max-len') ?? '64,128,256,512').split(',').map(Number);
    const steps = Number(arg('--steps') ?? 1);
    const work = mkdtempSync(join(tmpdir(), 'tb-bench-memory-'));
    try {
      const dir = join(work, 'bert-base');
      await runChild(__filename, { what: 'write', dir });
      out.batch = BATCH;
      out.table = [];
      for (const maxLen of lengths) (out.table as unknown[]).push(await child({ what: 'train', dir, maxLen, steps, bf16: process.argv.includes('--bf16') }));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[2] === '--child') job(JSON.parse(process.argv[3]) as Job).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
else void main();
