/** What the benchmarks share: generated splits, nsmc-dev as encoded splits, child processes, rounding. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus } from 'node:os';
import type { EncodedSplit } from '../src/core/encoded';
import { Rng } from '../src/core/rng';
import { readConfig } from '../src/engine/config';
import type { BertConfig } from '../src/engine/types';

/** KR-BERT char16424's vocab size: the user's model. */
export const VOCAB = 16424;

/** KR-BERT char16424's config.json when ../shared has it, else BERT-base's with KR-BERT's vocab (the same sizes). */
export function bertBaseConfig(): BertConfig {
  try {
    return readConfig(resolve(__dirname, '..', '..', 'shared', 'models', 'krbert-char16424'));
  } catch {
    return { vocab_size: VOCAB, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, layer_norm_eps: 1e-12, hidden_act: 'gelu' };
  }
}

/** `count` rows of `seqLen` random ids ([CLS] first, no padding) with random labels. */
export function randomSplit(count: number, seqLen: number, seed: number): EncodedSplit {
  const rng = new Rng(seed);
  const ids = new Int32Array(count * seqLen);
  for (let i = 0; i < ids.length; i++) ids[i] = 5 + rng.int(VOCAB - 5);
  for (let r = 0; r < count; r++) ids[r * seqLen] = 2;
  const labels = Int32Array.from({ length: count }, () => rng.int(2));
  return { maxLen: seqLen, count, ids, lengths: new Uint16Array(count).fill(seqLen), labels };
}

export interface Nsmc {
  /** Rows in a fixed seeded order (seed 42): the first tenth is the learning check's validation split. */
  order: Int32Array;
  /** The rows `idx` (into `order`'s values) as a split of `maxLen` columns, [SEP] kept last when cut. */
  split(idx: ArrayLike<number>, maxLen: number): EncodedSplit;
  /** Token count of row r (with [CLS] and [SEP]), uncut. */
  length(r: number): number;
  label(r: number): number;
  texts: string[];
}

/**
 * nsmc-dev (20,000 Korean movie reviews) with KR-BERT char ids from the reference tokenizer, read
 * from ../shared/data; undefined when it is absent.
 */
export function loadNsmc(): Nsmc | undefined {
  const idsFile = resolve(__dirname, '..', '..', 'shared', 'data', 'nsmc-dev-krbert-ids-128.jsonl');
  const tsv = resolve(__dirname, '..', '..', 'shared', 'data', 'nsmc-dev.tsv');
  if (!existsSync(idsFile) || !existsSync(tsv)) return undefined;
  const lines = readFileSync(tsv, 'utf8').split('\n').slice(1).filter((l) => l.trim());
  const labels = lines.map((l) => Number(l.split('\t')[2]));
  const texts = lines.map((l) => l.split('\t')[1] ?? '');
  const rows = readFileSync(idsFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { i: number; ids: number[]; n: number });
  const order = Int32Array.from({ length: rows.length }, (_, i) => i);
  new Rng(42).shuffle(order);
  return {
    order,
    texts: rows.map((r) => texts[r.i]),
    length: (r) => rows[r].n,
    label: (r) => labels[rows[r].i],
    split(idx, maxLen) {
      const ids = new Int32Array(idx.length * maxLen);
      const lengths = new Uint16Array(idx.length);
      const lab = new Int32Array(idx.length);
      for (let k = 0; k < idx.length; k++) {
        const row = rows[idx[k]];
        const n = Math.min(row.n, maxLen);
        ids.set(row.ids.slice(0, n), k * maxLen);
        if (row.n > maxLen) ids[k * maxLen + maxLen - 1] = 3;
        lengths[k] = n;
        lab[k] = labels[row.i];
      }
      return { maxLen, count: idx.length, ids, lengths, labels: lab };
    },
  };
}

/** Runs `file --child JSON` in a fresh process (tsx) and resolves with the JSON of its last stdout line. */
export function runChild(file: string, payload: unknown, env: NodeJS.ProcessEnv = {}): Promise<Record<string, number | string>> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', file, '--child', JSON.stringify(payload)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        res(JSON.parse(line));
      } catch {
        rej(new Error(`child exited ${code}: ${out.slice(-300)}`));
      }
    });
  });
}

export const r2 = (x: number): number => Math.round(x * 100) / 100;
export const r4 = (x: number): number => Math.round(x * 10000) / 10000;

/** Peak RSS of this process so far, MiB. */
export const peakRssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

/**
 * Floating-point operations of one example's forward pass through the classifier at sequence
 * length `seq`, counted for the whole model as PyTorch runs it (every layer on every token; ours
 * skips most of the last layer, which reads only [CLS]): 2 per multiply-add of the projections,
 * the feed-forward, attention's two products, the pooler and the head. Training is counted as 3×
 * this (the backward pass does about twice the forward's products).
 */
export function forwardFlops(c: BertConfig, seq: number, labels = 2): number {
  const H = c.hidden_size;
  const perLayer = seq * (4 * H * H + 2 * H * c.intermediate_size) + 2 * seq * seq * H;
  return 2 * (c.num_hidden_layers * perLayer + H * H + H * labels);
}

export interface Peak {
  fp32_gflop_s?: number;
  bf16_gflop_s?: number;
  error?: string;
}

/**
 * The machine's matmul peak (bench/peers/peak.py: a 2048³ product on every core, fp32 on the
 * system BLAS with the OpenBLAS core type the engine picks, bf16 on oneDNN), measured once.
 */
export function machinePeak(coretype: string | undefined): Peak {
  const cores = String(cpus().length);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: cores, OMP_NUM_THREADS: cores, ...(coretype ? { OPENBLAS_CORETYPE: coretype } : {}) };
  const r = spawnSync('/usr/bin/python3', [resolve(__dirname, 'peers', 'peak.py')], { encoding: 'utf8', env });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Peak;
  } catch {
    return { error: `peak.py: ${(r.stderr || r.error?.message || '').slice(-200)}` };
  }
}

/**
 * Examples/s as arithmetic: GFLOP/s, the share of the machine's peak, and for the peer the
 * ceiling — the most any engine doing the same arithmetic could reach against it (peak ÷ the
 * peer's GFLOP/s).
 */
export function roofline(exS: { ours?: number; peer?: number }, flopsPerExample: number, peakGflopS: number | undefined): Record<string, number | null> {
  const g = (x?: number) => (x ? r2((x * flopsPerExample) / 1e9) : null);
  const share = (x?: number) => (x && peakGflopS ? r2((x * flopsPerExample) / 1e9 / peakGflopS) : null);
  return {
    gflop_per_example: r2(flopsPerExample / 1e9),
    trialbook_gflop_s: g(exS.ours),
    trialbook_share_of_peak: share(exS.ours),
    pytorch_gflop_s: g(exS.peer),
    pytorch_share_of_peak: share(exS.peer),
    ceiling_ratio_vs_pytorch: exS.peer && peakGflopS ? r2(peakGflopS / ((exS.peer * flopsPerExample) / 1e9)) : null,
  };
}
