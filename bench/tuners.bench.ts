/**
 * Tuner quality and overhead, against Optuna in the same run (bench/peers/optuna_tuners.py,
 * Debian python3-optuna under /usr/bin/python3).
 *
 * 1. Single fidelity — Branin (2-D) and Hartmann-6: median over seeds of the best value after
 *    an equal number of trials. Ours: random, TPE (multivariate, our default), TPE univariate
 *    (Optuna's default), GP-BO; Optuna: random, TPE (defaults).
 * 2. Multi-fidelity — a learning-curve surrogate, loss(config, epoch) = final(config) +
 *    a(config)·exp(−b(config)·epoch), max 27 epochs, two curve shapes ("fast", "crossing"):
 *    median best loss after an equal epoch budget, and median epochs until a loss ≤ target is
 *    first seen (target: the 1 % quantile of random configurations at 27 epochs). Ours: random,
 *    TPE, GP-BO (27 epochs per trial), Hyperband, ASHA, ASHA+TPE (BOHB-like); Optuna: random,
 *    TPE, TPE + HyperbandPruner. Promotions resume their checkpoint (only extra epochs count);
 *    every epoch's loss counts as seen, for every method.
 * 3. Overhead — milliseconds per suggestion with 200 finished trials (Hartmann-6 space).
 *
 * All functions are minimised. The functions are defined here and in the Python peer; the
 * bench first checks that both give the same values. TB_BENCH_SEEDS sets the seeds (default 10).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Params } from '../src/protocol/messages';
import { AshaTuner } from '../src/tuners/asha';
import { BayesianTuner } from '../src/tuners/bayesian';
import { HyperbandTuner } from '../src/tuners/hyperband';
import { RandomTuner } from '../src/tuners/random';
import { rngFor, sample } from '../src/tuners/space';
import { median } from '../src/tuners/stats';
import { TpeTuner } from '../src/tuners/tpe';
import type { SearchSpace, TrialRecord, Tuner } from '../src/tuners/types';

const PYTHON = '/usr/bin/python3';
const PEER = join(__dirname, 'peers', 'optuna_tuners.py');
const SEEDS = Array.from({ length: Number(process.env.TB_BENCH_SEEDS ?? 10) }, (_, i) => i);

// ---- test functions (identical in the Python peer) ----

const HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]];
const HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]];
const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];

function branin(p: Params): number {
  const x = Number(p.x);
  const y = Number(p.y);
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
}

function hartmann6(p: Params): number {
  let total = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += HARTMANN_A[i][j] * (Number(p[`x${j}`]) - HARTMANN_P[i][j] * 1e-4) ** 2;
    total += HARTMANN_ALPHA[i] * Math.exp(-inner);
  }
  return -total;
}

type Curve = 'fast' | 'crossing';

/**
 * Validation loss of configuration p after `epoch` epochs. "fast": curves flatten within ~10
 * of 27 epochs, early epochs are partly informative (like fine-tuning a pretrained model).
 * "crossing": slow curves whose early ranking is dominated by how fast a configuration learns,
 * not where it ends (a stress test for early stopping).
 */
function surrogate(p: Params, epoch: number, kind: Curve = 'crossing'): number {
  const u = Math.log10(Number(p.lr));
  const d = Number(p.dropout);
  const lb = Math.log2(Number(p.batch));
  const w = Number(p.warmup);
  const final = 0.3 + 0.12 * (u + 3.2) ** 2 + 0.6 * (d - 0.2) ** 2 + 0.02 * (lb - 6) ** 2 + 0.004 * (w - 4) ** 2 + 0.05 * (u + 3.2) * (d - 0.2);
  const fast = kind === 'fast';
  const a = fast ? 0.4 + 0.4 * d + 0.05 * (lb - 5) : 1.2 + 0.6 * d + 0.1 * (lb - 5);
  const b = fast ? 0.15 + ((0.6 * (u + 5)) / 4) * (1 - 0.5 * d) : 0.04 + ((0.3 * (u + 5)) / 4) * (1 - 0.5 * d);
  return final + a * Math.exp(-b * epoch);
}

const SPACES: Record<string, SearchSpace> = {
  branin: [
    { type: 'float', name: 'x', low: -5, high: 10 },
    { type: 'float', name: 'y', low: 0, high: 15 },
  ],
  hartmann6: Array.from({ length: 6 }, (_, i) => ({ type: 'float' as const, name: `x${i}`, low: 0, high: 1 })),
  surrogate: [
    { type: 'float', name: 'lr', low: 1e-5, high: 1e-1, log: true },
    { type: 'float', name: 'dropout', low: 0, high: 0.5 },
    { type: 'choice', name: 'batch', values: [32, 64, 128, 256] },
    { type: 'int', name: 'warmup', low: 0, high: 10 },
  ],
};
const FUNCTIONS: Record<string, (p: Params) => number> = { branin, hartmann6 };
const BUDGET: Record<string, number> = { branin: 40, hartmann6: 60 };
const OPTIMUM: Record<string, number> = { branin: 0.397887, hartmann6: -3.32237 };

const MF = { R: 27, epochBudget: 1000, epochCap: 20000 };

/** The target loss: the 1 % quantile of the loss at max epochs over 100,000 random configurations. */
function targetLoss(kind: Curve): number {
  const rng = rngFor(2024, 1);
  const v = Array.from({ length: 100000 }, () => surrogate(sample(SPACES.surrogate, rng), MF.R, kind)).sort((a, b) => a - b);
  return v[1000];
}

function peer(task: Record<string, unknown>): Record<string, unknown> {
  const r = spawnSync(PYTHON, [PEER], { input: JSON.stringify(task), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`optuna peer failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(r.stdout);
}

function peerAvailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ['-c', 'import optuna'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'python3-optuna is not installed (apt-get install -y python3-optuna)';
}

/** Both definitions agree on random points (else the comparison means nothing). */
function checkDefinitions(): void {
  const rng = rngFor(123, 0);
  const pts = (s: SearchSpace): Params[] => Array.from({ length: 20 }, () => sample(s, rng));
  const b = pts(SPACES.branin);
  const h = pts(SPACES.hartmann6);
  const s = pts(SPACES.surrogate).map((p, i) => [p, 1 + (i % 27), i % 2 ? 'fast' : 'crossing'] as [Params, number, Curve]);
  const r = peer({ task: 'eval', branin: b, hartmann6: h, surrogate: s }) as { branin: number[]; hartmann6: number[]; surrogate: number[] };
  const ours = { branin: b.map(branin), hartmann6: h.map(hartmann6), surrogate: s.map(([p, e, k]) => surrogate(p, e, k)) };
  for (const k of ['branin', 'hartmann6', 'surrogate'] as const) {
    ours[k].forEach((v, i) => {
      if (Math.abs(v - r[k][i]) > 1e-9 * Math.max(1, Math.abs(v))) throw new Error(`${k}: TypeScript and Python definitions differ (${v} vs ${r[k][i]})`);
    });
  }
}

function bestAfter(tuner: Tuner, fn: (p: Params) => number, budget: number): number {
  const h: TrialRecord[] = [];
  let best = Infinity;
  while (h.length < budget) {
    const s = tuner.suggest(h);
    if (s.kind !== 'trial') break;
    const v = fn(s.params);
    best = Math.min(best, v);
    h.push({ number: h.length, params: s.params, state: 'complete', value: v });
  }
  return best;
}

type Make = (space: SearchSpace, seed: number) => Tuner;
const SINGLE: Record<string, Make> = {
  random: (s, seed) => new RandomTuner(s, { seed }),
  tpe: (s, seed) => new TpeTuner(s, { seed, direction: 'minimize', initialPoints: 10, candidates: 24 }),
  'tpe-univariate': (s, seed) => new TpeTuner(s, { seed, direction: 'minimize', initialPoints: 10, candidates: 24, multivariate: false }),
  bayesian: (s, seed) => new BayesianTuner(s, { seed, direction: 'minimize', initialPoints: 5, acquisition: 'ei', beta: 2.6 }),
};

/**
 * One multi-fidelity search, sequential: every epoch trained is counted; a promotion trains
 * from its source's epochs. Returns the best loss seen within the epoch budget and the epochs
 * spent when a loss ≤ target was first seen (undefined if not within the cap).
 */
function multiFidelity(tuner: Tuner, kind: Curve, target: number, cap = MF.epochCap): { best: number; reached?: number } {
  const h: TrialRecord[] = [];
  let used = 0;
  let best = Infinity;
  let reached: number | undefined;
  while (used < cap && (used < MF.epochBudget || reached === undefined)) {
    const s = tuner.suggest(h);
    if (s.kind !== 'trial') break;
    const epochs = s.epochs ?? MF.R;
    const from = s.resumeFrom !== undefined ? (h[s.resumeFrom].epochs ?? 0) : 0;
    let loss = Infinity;
    const curve: number[] = [];
    for (let e = from + 1; e <= epochs && used < cap; e++) {
      used++;
      loss = surrogate(s.params, e, kind);
      curve.push(loss);
      if (used <= MF.epochBudget) best = Math.min(best, loss);
      if (loss <= target && reached === undefined) reached = used;
    }
    h.push({ number: h.length, params: s.params, state: 'complete', value: loss, epochs, intermediate: curve, ...(s.tag ? { tag: s.tag } : {}) });
  }
  return { best, reached };
}

const MULTI: Record<string, (seed: number) => Tuner> = {
  random: (seed) => new RandomTuner(SPACES.surrogate, { seed }),
  tpe: (seed) => new TpeTuner(SPACES.surrogate, { seed, direction: 'minimize', initialPoints: 10, candidates: 24 }),
  bayesian: (seed) => new BayesianTuner(SPACES.surrogate, { seed, direction: 'minimize', initialPoints: 5, acquisition: 'ei', beta: 2.6 }),
  hyperband: (seed) => new HyperbandTuner(SPACES.surrogate, { maxEpochs: MF.R, factor: 3, iterations: 1000, seed, direction: 'minimize' }),
  asha: (seed) => new AshaTuner(SPACES.surrogate, { minEpochs: 1, maxEpochs: MF.R, factor: 3, seed, direction: 'minimize' }),
  'asha-bohb': (seed) => new AshaTuner(SPACES.surrogate, { minEpochs: 1, maxEpochs: MF.R, factor: 3, seed, direction: 'minimize', sampler: 'tpe' }),
};

function round(v: number, d = 4): number {
  return Number(v.toPrecision(d));
}

/** ms per suggestion with `finished` complete trials (history from random search or the tuner's own run). */
function overhead(make: (seed: number) => Tuner, space: SearchSpace, fn: (p: Params) => number, finished: number, reps: number): number {
  const tuner = make(0);
  const h: TrialRecord[] = [];
  // Build the history with the tuner itself, so multi-fidelity tags are realistic.
  while (h.length < finished) {
    const s = tuner.suggest(h);
    if (s.kind !== 'trial') break;
    h.push({ number: h.length, params: s.params, state: 'complete', value: fn(s.params), epochs: s.epochs ?? 1, ...(s.tag ? { tag: s.tag } : {}) });
  }
  const start = performance.now();
  for (let i = 0; i < reps; i++) tuner.suggest(h);
  return (performance.now() - start) / reps;
}

export async function run(): Promise<object> {
  const missing = peerAvailable();
  if (!missing) checkDefinitions();
  const out: Record<string, unknown> = { seeds: SEEDS.length, peer: missing ? { unavailable: missing } : 'optuna' };

  // 1. Single fidelity.
  const single: Record<string, unknown> = {};
  for (const fn of ['branin', 'hartmann6']) {
    const row: Record<string, number> = {};
    for (const [name, make] of Object.entries(SINGLE)) {
      const t0 = performance.now();
      row[name] = round(median(SEEDS.map((seed) => bestAfter(make(SPACES[fn], seed), FUNCTIONS[fn], BUDGET[fn]))));
      process.stderr.write(`bench: tuners ${fn} ${name} ${Math.round(performance.now() - t0)} ms\n`);
    }
    const entry: Record<string, unknown> = { budget: BUDGET[fn], optimum: OPTIMUM[fn], medianBest: row };
    if (!missing) {
      const ot = median(peer({ task: 'single', fn, sampler: 'tpe', seeds: SEEDS, budget: BUDGET[fn] }).best as number[]);
      const or = median(peer({ task: 'single', fn, sampler: 'random', seeds: SEEDS, budget: BUDGET[fn] }).best as number[]);
      row['optuna-tpe'] = round(ot);
      row['optuna-random'] = round(or);
      const ours = Math.min(row.random, row.tpe, row['tpe-univariate'], row.bayesian);
      // Gap to the optimum, ours / Optuna TPE (< 1: we get closer).
      entry.gapRatioBestVsOptunaTpe = round((ours - OPTIMUM[fn]) / (ot - OPTIMUM[fn]), 3);
      entry.gapRatioTpeVsOptunaTpe = round((row.tpe - OPTIMUM[fn]) / (ot - OPTIMUM[fn]), 3);
      entry.targetMet = ours <= ot;
    }
    single[fn] = entry;
  }
  out.singleFidelity = single;

  // 2. Multi-fidelity surrogate, both curve shapes.
  const summarise = (best: number[], reached: Array<number | undefined | null>) => {
    const ok = reached.filter((r): r is number => typeof r === 'number');
    // Searches that never reached the target count as the cap (so the median is conservative).
    const all = reached.map((r) => (typeof r === 'number' ? r : MF.epochCap));
    return { medianBestAtBudget: round(median(best)), medianEpochsToTarget: ok.length * 2 > reached.length ? median(all) : null, reachedIn: `${ok.length}/${reached.length}` };
  };
  const surrogates: Record<string, unknown> = {};
  for (const kind of ['fast', 'crossing'] as const) {
    const target = targetLoss(kind);
    const mf: Record<string, ReturnType<typeof summarise>> = {};
    for (const [name, make] of Object.entries(MULTI)) {
      const t0 = performance.now();
      // GP cost grows as n³ and TPE's as n²: stop them earlier (a search that has not reached
      // the target by then counts as the full cap; reachedIn says how many did).
      const cap = name === 'bayesian' ? 150 * MF.R : name === 'asha-bohb' ? 5000 : MF.epochCap;
      const runs = SEEDS.map((seed) => multiFidelity(make(seed), kind, target, cap));
      mf[name] = summarise(runs.map((r) => r.best), runs.map((r) => r.reached));
      process.stderr.write(`bench: tuners surrogate-${kind} ${name} ${Math.round(performance.now() - t0)} ms\n`);
    }
    if (!missing) {
      for (const sampler of ['random', 'tpe', 'tpe-hyperband']) {
        const r = peer({ task: 'mf', sampler, seeds: SEEDS, kind, target, ...MF }) as { bestAtBudget: number[]; epochsToTarget: Array<number | null> };
        mf[`optuna-${sampler}`] = summarise(r.bestAtBudget, r.epochsToTarget);
      }
    }
    const rnd = mf.random.medianEpochsToTarget;
    const speedup = (k: string): number | null => (rnd && mf[k]?.medianEpochsToTarget ? round(rnd / mf[k].medianEpochsToTarget!, 3) : null);
    const ours = Math.min(...Object.keys(MULTI).map((k) => mf[k].medianBestAtBudget));
    surrogates[kind] = {
      ...MF,
      target: round(target, 5),
      results: mf,
      epochsSpeedupVsRandom: Object.fromEntries(['tpe', 'bayesian', 'hyperband', 'asha', 'asha-bohb', 'optuna-tpe', 'optuna-tpe-hyperband'].map((k) => [k, speedup(k)])),
      speedupTargetMet: (speedup('hyperband') ?? 0) >= 3 && (speedup('asha') ?? 0) >= 3,
      bestAtBudgetRatioVsOptunaTpe: mf['optuna-tpe'] ? Object.fromEntries(Object.keys(MULTI).map((k) => [k, round(mf[k].medianBestAtBudget / mf['optuna-tpe'].medianBestAtBudget, 3)])) : null,
      bestTargetMet: mf['optuna-tpe'] ? ours <= mf['optuna-tpe'].medianBestAtBudget : null,
    };
  }
  out.surrogate = surrogates;

  // 3. Overhead at 200 finished trials.
  const H = SPACES.hartmann6;
  const ms: Record<string, number> = {
    random: round(overhead((s) => SINGLE.random(H, s), H, hartmann6, 200, 50), 3),
    tpe: round(overhead((s) => SINGLE.tpe(H, s), H, hartmann6, 200, 10), 3),
    bayesian: round(overhead((s) => SINGLE.bayesian(H, s), H, hartmann6, 200, 2), 3),
    hyperband: round(overhead((s) => new HyperbandTuner(H, { maxEpochs: 27, factor: 3, iterations: 10, seed: s, direction: 'minimize' }), H, hartmann6, 200, 50), 3),
    asha: round(overhead((s) => new AshaTuner(H, { minEpochs: 1, maxEpochs: 27, factor: 3, seed: s, direction: 'minimize' }), H, hartmann6, 200, 50), 3),
  };
  const overheadOut: Record<string, unknown> = { finishedTrials: 200, msPerSuggestion: ms };
  if (!missing) {
    const o = peer({ task: 'overhead', finished: 200, repeats: 10 }) as Record<string, number>;
    overheadOut.optunaMsPerAsk = { random: round(o.random, 3), tpe: round(o.tpe, 3) };
    overheadOut.ratioTpeVsOptunaTpe = round(ms.tpe / o.tpe, 3);
  }
  out.overhead = overheadOut;
  return out;
}
