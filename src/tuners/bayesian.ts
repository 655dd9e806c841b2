/**
 * Gaussian-process Bayesian optimisation. The first `initialPoints` configurations come from a
 * Latin hypercube (seeded); after that a GP (Matérn 5/2, ARD, inputs in [0,1]^d with log
 * scales and one-hot choices, standardised outputs, hyperparameters by marginal likelihood)
 * models the objective and the next configuration maximises the acquisition — expected
 * improvement (default) or the confidence bound μ − β·σ — over random candidates refined by
 * local perturbation. Running trials are "pending": they enter the GP as constant lies at the
 * mean observed value (CL-mean, Ginsbourger et al. 2010), so parallel workers spread out
 * instead of asking for the same point, and a configuration already tried is never suggested.
 */
import type { Params } from '../protocol/messages';
import type { Rng } from '../core/rng';
import { GaussianProcess } from './gp';
import { configKey, decode, encode, encodedSize, fromUnit, rngFor, sample } from './space';
import { normCdf, normPdf } from './stats';
import type { Direction, SearchSpace, Suggestion, TrialRecord, Tuner } from './types';

export interface BayesianOptions {
  seed: number;
  direction: Direction;
  initialPoints: number;
  acquisition: 'ei' | 'ucb';
  /** Weight of σ in the confidence bound (Keras Tuner's default 2.6). */
  beta: number;
  maxTrials?: number;
  /** Random candidates scored per suggestion (default 1000). */
  candidates?: number;
}

/** Point i of a seeded Latin hypercube of `count` points (one stratum per point per dimension). */
export function latinHypercubePoint(space: SearchSpace, seed: number, count: number, i: number): Params {
  const p: Params = {};
  space.forEach((d, k) => {
    const rng = rngFor(seed, 0x1a75, k);
    const perm = Array.from({ length: count }, (_, j) => j);
    rng.shuffle(perm);
    const u = (perm[i % count] + rngFor(seed, 0x1a76, k, i).next()) / count;
    if (d.type === 'fixed') p[d.name] = d.value;
    else if (d.type === 'float' || d.type === 'int') p[d.name] = fromUnit(d, u);
    else if (d.type === 'bool') p[d.name] = u >= 0.5;
    else p[d.name] = d.values[Math.min(d.values.length - 1, Math.floor(u * d.values.length))];
  });
  return p;
}

const FIT_POINTS = 80;

/** Indices of the points used to fit hyperparameters: the best k/2, then the latest others. */
export function fitSubset(y: number[], k: number): number[] {
  if (y.length <= k) return y.map((_, i) => i);
  const best = y.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v || a.i - b.i).slice(0, k >> 1).map((o) => o.i);
  const chosen = new Set(best);
  for (let i = y.length - 1; i >= 0 && chosen.size < k; i--) chosen.add(i);
  return [...chosen].sort((a, b) => a - b);
}

export class BayesianTuner implements Tuner {
  readonly name = 'bayesian';
  constructor(
    private readonly space: SearchSpace,
    private readonly o: BayesianOptions,
  ) {}

  suggest(history: TrialRecord[]): Suggestion {
    if (this.o.maxTrials !== undefined && history.length >= this.o.maxTrials) return { kind: 'done' };
    const used = new Set(history.map((t) => configKey(this.space, t.params)));
    const rng = rngFor(this.o.seed, history.length, 0xb0);
    const done = history.filter((t) => t.state === 'complete' && t.value !== undefined && Number.isFinite(t.value));
    const model = history.length >= this.o.initialPoints && done.length >= 2 && encodedSize(this.space) > 0;
    const params = (model ? this.optimiseAcquisition(history, done, used, rng) : undefined) ?? this.fresh(history.length, used, rng);
    if (params) return { kind: 'trial', params };
    // A small discrete space is exhausted: never repeat a configuration.
    return history.some((t) => t.state === 'running') ? { kind: 'wait' } : { kind: 'done' };
  }

  private fresh(i: number, used: Set<string>, rng: Rng): Params | undefined {
    if (i < this.o.initialPoints) {
      const p = latinHypercubePoint(this.space, this.o.seed, this.o.initialPoints, i);
      if (!used.has(configKey(this.space, p))) return p;
    }
    for (let a = 0; a < 200; a++) {
      const p = sample(this.space, rng);
      if (!used.has(configKey(this.space, p))) return p;
    }
    return undefined;
  }

  private optimiseAcquisition(history: TrialRecord[], done: TrialRecord[], used: Set<string>, rng: Rng): Params | undefined {
    const dim = encodedSize(this.space);
    const X = done.map((t) => encode(this.space, t.params));
    const raw = done.map((t) => (this.o.direction === 'minimize' ? t.value! : -t.value!));
    const mu = raw.reduce((a, b) => a + b, 0) / raw.length;
    const sd = Math.sqrt(raw.reduce((a, b) => a + (b - mu) ** 2, 0) / raw.length) || 1;
    const y = raw.map((v) => (v - mu) / sd);
    const gp = new GaussianProcess(dim);
    try {
      // Hyperparameters from at most FIT_POINTS points (the best half and the most recent
      // others): the fit is O(n³) per step, the posterior with every point is not the bottleneck.
      const fitIdx = fitSubset(y, FIT_POINTS);
      if (fitIdx.length < y.length) {
        const sub = new GaussianProcess(dim);
        sub.setData(fitIdx.map((i) => X[i]), fitIdx.map((i) => y[i]));
        sub.optimise(rng, 1, 40);
        gp.setTheta(sub.thetaVector);
        gp.setData(X, y);
      } else {
        gp.setData(X, y);
        gp.optimise(rng, 1, 40);
      }
      const pending = history.filter((t) => t.state === 'running').map((t) => encode(this.space, t.params));
      if (pending.length) gp.addPoints(pending, pending.map(() => 0)); // lie: the mean (0 after standardising)
    } catch {
      return undefined;
    }
    const best = Math.min(...y);
    const score = (x: number[]): number => {
      const { mean, std } = gp.predict(x);
      if (this.o.acquisition === 'ucb') return -(mean - this.o.beta * std);
      const xi = 0.01;
      const z = (best - mean - xi) / std;
      return (best - mean - xi) * normCdf(z) + std * normPdf(z);
    };
    // Snap candidates to valid configurations so the acquisition sees what would really run.
    const snap = (x: number[]): { x: number[]; p: Params; key: string } => {
      const p = decode(this.space, x);
      return { x: encode(this.space, p), p, key: configKey(this.space, p) };
    };
    type Cand = { x: number[]; p: Params; key: string; s: number };
    const scored: Cand[] = [];
    const seen = new Set<string>();
    const consider = (x: number[]): void => {
      const c = snap(x);
      if (used.has(c.key) || seen.has(c.key)) return;
      seen.add(c.key);
      scored.push({ ...c, s: score(c.x) });
    };
    const nRandom = this.o.candidates ?? 1000;
    for (let i = 0; i < nRandom; i++) consider(encode(this.space, sample(this.space, rng)));
    // Local search around the best observed points and the best candidates so far.
    const order = done.map((t, i) => ({ i, v: y[i] })).sort((a, b) => a.v - b.v).slice(0, 5);
    let centres = order.map((o) => X[o.i]);
    for (const scale of [0.1, 0.03, 0.01]) {
      scored.sort((a, b) => b.s - a.s);
      centres = [...centres.slice(0, 3), ...scored.slice(0, 5).map((c) => c.x)];
      for (const c of centres) for (let k = 0; k < 20; k++) consider(this.perturb(c, scale, rng));
    }
    if (!scored.length) return undefined;
    scored.sort((a, b) => b.s - a.s);
    return scored[0].p;
  }

  /** Gaussian step on numeric coordinates; a choice or bool switches with a small probability. */
  private perturb(x: number[], scale: number, rng: Rng): number[] {
    const out = x.slice();
    let i = 0;
    for (const d of this.space) {
      if (d.type === 'fixed') continue;
      if (d.type === 'float' || d.type === 'int') {
        out[i] = Math.min(1, Math.max(0, out[i] + scale * rng.normal()));
        i++;
      } else if (d.type === 'bool') {
        if (rng.next() < 0.1) out[i] = 1 - out[i];
        i++;
      } else {
        if (rng.next() < 0.1) {
          for (let k = 0; k < d.values.length; k++) out[i + k] = 0;
          out[i + rng.int(d.values.length)] = 1;
        }
        i += d.values.length;
      }
    }
    return out;
  }
}
