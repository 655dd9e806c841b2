/**
 * Acceptance run for issue 18 (not part of `npm test`: it takes tens of minutes on 2 cores): a
 * BERT-base-size folder (12 layers, hidden 768, 12 heads, FFN 3072, vocab 16,424; seeded random
 * weights in HF layout, no classifier, as a pretrained body comes) is fine-tuned at max_len 512,
 * batch 32, one epoch, then predicts and evaluates 2,000 rows at max_len 512 — each phase in its
 * own process (as the CLI runs them), reporting wall time and peak RSS (VmHWM).
 *
 *   node --import tsx bench/bert-base-512.ts            rows of mixed lengths, a share of them at 512
 *   node --import tsx bench/bert-base-512.ts --all-max  every row 512 tokens (hours on 2 cores)
 *
 * The mixed default keeps every pass's longest batches at 512 tokens (the memory worst case the
 * issue is about) while short rows, as in real reviews, keep the run within the hour.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedSplit } from '../src/core/encoded';
import { Rng } from '../src/core/rng';
import type { BertConfig } from '../src/engine/types';

const BASE: BertConfig = { vocab_size: 16424, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, layer_norm_eps: 1e-12, hidden_act: 'gelu' };
const MAX_LEN = 512;
/** What a study's trial asks for (training.memoryBudgetMiB's default); the wasm heap caps it. */
const STUDY_BUDGET_MIB = 4096;

/** `count` rows: a share `atMax` exactly MAX_LEN tokens, the rest 16–160 tokens; the label is carried by token 7 or 8. */
function rows(count: number, atMax: number, seed: number): EncodedSplit {
  const rng = new Rng(seed);
  const ids = new Int32Array(count * MAX_LEN);
  const lengths = new Uint16Array(count);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const n = rng.next() < atMax ? MAX_LEN : 16 + rng.int(145);
    const label = rng.int(2);
    const row = ids.subarray(r * MAX_LEN, (r + 1) * MAX_LEN);
    row[0] = 2;
    for (let i = 1; i < n - 1; i++) row[i] = 10 + rng.int(BASE.vocab_size - 10);
    row[1 + rng.int(n - 2)] = label ? 7 : 8;
    row[n - 1] = 3;
    lengths[r] = n;
    labels[r] = label;
  }
  return { maxLen: MAX_LEN, count, ids, lengths, labels };
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Math.round(process.memoryUsage.rss() / 1048576);
}

/** One phase in this (child) process; prints one JSON line. */
async function phase(name: string, dir: string, atMax: number): Promise<void> {
  const engine = await import('../src/engine');
  const backend = await engine.initBackend();
  const t0 = performance.now();
  const log = (level: string, text: string) => process.stderr.write(`  [${name}] ${level}: ${text}\n`);
  let detail: Record<string, unknown> = {};
  if (name === 'write') {
    const { seededValues } = await import('../src/engine/model');
    const { saveModelFolder } = await import('../src/engine/weights');
    const { readSafetensors, writeSafetensors } = await import('../src/engine/safetensors');
    const model = join(dir, 'model');
    saveModelFolder(model, BASE, seededValues(BASE, 2, 1), 2, { labels: ['neg', 'pos'], maxLen: MAX_LEN });
    // A pretrained body comes without a classifier.
    const st = readSafetensors(join(model, 'model.safetensors'));
    st.delete('classifier.weight');
    st.delete('classifier.bias');
    writeSafetensors(join(model, 'model.safetensors'), st);
  } else if (name === 'train') {
    const r = await engine.trainModel(
      {
        model: join(dir, 'model'), vocabSize: BASE.vocab_size, numLabels: 2, labelNames: ['neg', 'pos'],
        train: rows(256, atMax, 1), val: rows(64, atMax, 2), saveBestTo: join(dir, 'trained'),
        memoryBudgetMiB: STUDY_BUDGET_MIB,
        params: { learning_rate: 2e-5, warmup_steps: 1, freeze_body: false, dropout_rate: 0.1, batch_size: 32, epochs: 1, max_seq_len: MAX_LEN, seed: 1, weight_decay: 0.01, max_grad_norm: 1.0, patience: 10_000 },
      },
      { onLog: log, onMetric: (m) => log('metric', JSON.stringify(m)) },
    );
    detail = { budgetMiB: (await import('../src/engine/memory')).activationBudgetMiB(backend.name, BASE, STUDY_BUDGET_MIB), microBatch: r.microBatch, accumulationSteps: r.accumulationSteps, valLoss: r.bestValLoss, valAccuracy: r.bestValAccuracy };
  } else {
    const split = rows(2000, atMax, 3);
    if (name === 'predict') detail = { rows: (await engine.predictModel(join(dir, 'trained'), split, { onLog: log })).length };
    else {
      const e = await engine.evaluateModel(join(dir, 'trained'), split, { onLog: log });
      detail = { rows: e.count, accuracy: e.accuracy, loss: e.loss };
    }
  }
  process.stdout.write(`${JSON.stringify({ phase: name, ok: true, seconds: Math.round((performance.now() - t0) / 100) / 10, peakRssMiB: peakRssMiB(), backend: backend.name, matmul: backend.matmul, ...detail })}\n`);
}

function main(): void {
  const child = process.argv.indexOf('--phase');
  const atMax = process.argv.includes('--all-max') ? 1 : 0.1;
  if (child >= 0) {
    void phase(process.argv[child + 1], process.argv[child + 2], atMax).catch((e) => {
      process.stdout.write(`${JSON.stringify({ phase: process.argv[child + 1], ok: false, error: (e as Error).message })}\n`);
      process.exit(1);
    });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tb-bert-base-'));
  const results: unknown[] = [];
  try {
    for (const name of ['write', 'train', 'predict', 'evaluate']) {
      process.stderr.write(`bert-base-512: ${name}…\n`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--phase', name, dir, ...(atMax === 1 ? ['--all-max'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      const parsed = line.startsWith('{') ? JSON.parse(line) : { phase: name, ok: false, error: `exit ${r.status ?? r.signal}: ${line}` };
      results.push(parsed);
      if (!parsed.ok) break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify({ rowsAtMaxLen: atMax, note: 'busy shared machine: timings are not results', results }, null, 2)}\n`);
}

main();
