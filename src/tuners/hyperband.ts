/**
 * Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh, Talwalkar, JMLR 18(185), 2018), exactly as in
 * the paper's Algorithm 1, with Keras Tuner's parameter names: R = `max_epochs`, η = `factor`,
 * repeated `hyperband_iterations` times.
 *
 *   s_max = ⌊log_η R⌋ (integer loop, no floating-point logarithm)
 *   bracket s = s_max … 0:  n = ⌈(s_max + 1)/(s + 1) · η^s⌉ configurations
 *   round i = 0 … s:        keep n_i = ⌊n · η^-i⌋ configurations, train each to r_i = ⌈R · η^(i-s)⌉ epochs
 *
 * Each round keeps the best n_i of the previous round's n_{i-1}; a promoted configuration
 * continues from its checkpoint (`resumeFrom`), so it trains only r_i − r_{i-1} more epochs.
 *
 * Where Keras Tuner's counts differ (keras_tuner/tuners/hyperband.py, HyperbandOracle):
 * - Round sizes: Keras Tuner sizes every round on its own as ⌈⌈1 + log_η R⌉/(s+1) · η^(s-i)⌉,
 *   rounding up per round instead of ⌊n·η^-i⌋. For R = 27, η = 3 its bracket 2 keeps 2 (not 1)
 *   configurations in the last round and bracket 1 keeps 2 (same), giving 49 configurations,
 *   70 runs and 375 epochs instead of the paper's 49 / 69 / 357.
 * - It takes log_η R with a floating-point logarithm: math.log(125, 5) = 3.0000000000000004,
 *   so ⌈1 + log⌉ becomes 5 instead of 4 and every bracket grows by 25 %. We count with integers.
 * - It promotes asynchronously as soon as more trials of a round have finished than will be
 *   dropped, so a configuration can be promoted before the round is complete and before a
 *   better one finishes; we wait for the round (other brackets keep parallel workers busy).
 * - It resumes from the checkpoint of the trial's best epoch, we from its last epoch (the
 *   epochs of a round are a budget, and the runner's checkpoint is the last epoch).
 * `max_epochs` means the same in both: the most epochs any one configuration is trained.
 */
import type { Params } from '../protocol/messages';
import { configKey, rngFor, sample, toLoss } from './space';
import type { Direction, SearchSpace, Suggestion, TrialRecord, Tuner } from './types';

export interface HyperbandRound {
  /** Configurations trained in this round. */
  n: number;
  /** Total epochs each of them has trained by the end of the round. */
  epochs: number;
}

export interface HyperbandBracket {
  s: number;
  rounds: HyperbandRound[];
}

export interface HyperbandPlan {
  brackets: HyperbandBracket[];
  /** Distinct configurations sampled (first rounds of all brackets and iterations). */
  configs: number;
  /** Training runs (trials), promotions included. */
  runs: number;
  /**
   * Epochs actually trained: a promoted configuration resumes from its checkpoint, so round i
   * costs n_i · (r_i − r_{i−1}) epochs (round 0 costs n_0 · r_0). Summed over all iterations.
   */
  epochs: number;
}

/** η^k as an exact integer (R and η are small integers). */
function pow(eta: number, k: number): number {
  let v = 1;
  for (let i = 0; i < k; i++) v *= eta;
  return v;
}

/** ⌊log_η R⌋ by repeated multiplication: the largest s with η^s ≤ R. */
export function sMax(R: number, eta: number): number {
  let s = 0;
  let p = eta;
  while (p <= R) {
    s++;
    p *= eta;
  }
  return s;
}

/** Brackets of one Hyperband iteration. */
export function hyperbandBrackets(R: number, eta: number): HyperbandBracket[] {
  if (!Number.isInteger(R) || R < 1) throw new Error(`hyperband: max_epochs must be a positive integer (got ${R})`);
  if (!Number.isInteger(eta) || eta < 2) throw new Error(`hyperband: factor must be an integer ≥ 2 (got ${eta})`);
  const top = sMax(R, eta);
  const brackets: HyperbandBracket[] = [];
  for (let s = top; s >= 0; s--) {
    const es = pow(eta, s);
    const n = Math.ceil(((top + 1) * es) / (s + 1));
    const rounds: HyperbandRound[] = [];
    for (let i = 0; i <= s; i++) {
      const ei = pow(eta, i);
      rounds.push({ n: Math.floor(n / ei), epochs: Math.ceil((R * ei) / es) });
    }
    brackets.push({ s, rounds });
  }
  return brackets;
}

/** What one full Hyperband run costs. For R = 27, η = 3, 1 iteration: 49 configs, 69 runs, 357 epochs. */
export function planHyperband(R: number, eta: number, iterations = 1): HyperbandPlan {
  const brackets = hyperbandBrackets(R, eta);
  let configs = 0;
  let runs = 0;
  let epochs = 0;
  for (const b of brackets) {
    configs += b.rounds[0].n;
    let prev = 0;
    for (const r of b.rounds) {
      runs += r.n;
      epochs += r.n * (r.epochs - prev);
      prev = r.epochs;
    }
  }
  return { brackets, configs: configs * iterations, runs: runs * iterations, epochs: epochs * iterations };
}

export interface HyperbandTag {
  iteration: number;
  bracket: number;
  round: number;
  /** Index of the configuration within its bracket (same across rounds). */
  config: number;
}

export function hyperbandTag(t: { tag?: Record<string, unknown> }): HyperbandTag | undefined {
  const h = t.tag?.hb as HyperbandTag | undefined;
  return h && typeof h.bracket === 'number' && typeof h.round === 'number' && typeof h.config === 'number' ? h : undefined;
}

export interface HyperbandOptions {
  maxEpochs: number;
  factor: number;
  iterations: number;
  seed: number;
  direction: Direction;
}

/** Hyperband as a rebuildable tuner: the state of every bracket is read back from trial tags. */
export class HyperbandTuner implements Tuner {
  readonly name = 'hyperband';
  private readonly brackets: HyperbandBracket[];

  constructor(
    private readonly space: SearchSpace,
    private readonly o: HyperbandOptions,
  ) {
    this.brackets = hyperbandBrackets(o.maxEpochs, o.factor);
  }

  plan(): HyperbandPlan {
    return planHyperband(this.o.maxEpochs, this.o.factor, this.o.iterations);
  }

  suggest(history: TrialRecord[]): Suggestion {
    // Index this tuner's trials by (iteration, bracket, round, config).
    const byCell = new Map<string, TrialRecord>();
    const used = new Set<string>();
    for (const t of history) {
      used.add(configKey(this.space, t.params));
      const h = hyperbandTag(t);
      if (h) byCell.set(`${h.iteration ?? 0}/${h.bracket}/${h.round}/${h.config}`, t);
    }
    let pending = false;
    for (let it = 0; it < this.o.iterations; it++) {
      for (const b of this.brackets) {
        const r = this.nextInBracket(it, b, byCell, used);
        if (r === 'wait') pending = true;
        else if (r !== 'complete') return r;
      }
    }
    return pending ? { kind: 'wait' } : { kind: 'done' };
  }

  /** The next run of one bracket, or why there is none. */
  private nextInBracket(
    it: number,
    b: HyperbandBracket,
    byCell: Map<string, TrialRecord>,
    used: Set<string>,
  ): Suggestion | 'wait' | 'complete' {
    const cell = (round: number, config: number): TrialRecord | undefined => byCell.get(`${it}/${b.s}/${round}/${config}`);
    const tag = (round: number, config: number): Record<string, unknown> => ({ hb: { iteration: it, bracket: b.s, round, config } });
    // Round 0: sample the bracket's n configurations.
    const n0 = b.rounds[0].n;
    for (let j = 0; j < n0; j++) {
      if (cell(0, j)) continue;
      return { kind: 'trial', params: this.newConfig(it, b.s, j, used), epochs: b.rounds[0].epochs, tag: tag(0, j) };
    }
    for (let i = 1; i < b.rounds.length; i++) {
      // Round i can start once every run of round i−1 has finished.
      const prev: Array<{ config: number; trial: TrialRecord }> = [];
      for (let j = 0; j < n0; j++) {
        const t = cell(i - 1, j);
        if (t) prev.push({ config: j, trial: t });
      }
      if (prev.some((p) => p.trial.state === 'running')) return 'wait';
      const ranked = prev
        .map((p) => ({ ...p, loss: toLoss(p.trial.state === 'complete' ? p.trial.value : undefined, this.o.direction) }))
        .sort((a, b2) => a.loss - b2.loss || a.trial.number - b2.trial.number);
      const keep = ranked.slice(0, b.rounds[i].n).filter((p) => Number.isFinite(p.loss));
      for (const p of keep) {
        if (cell(i, p.config)) continue;
        return {
          kind: 'trial',
          params: p.trial.params,
          epochs: b.rounds[i].epochs,
          resumeFrom: p.trial.number,
          tag: tag(i, p.config),
        };
      }
    }
    const last = b.rounds.length - 1;
    for (let j = 0; j < n0; j++) if (cell(last, j)?.state === 'running') return 'wait';
    // Also wait on any earlier-round run still in flight (a bracket whose survivors all failed).
    for (let i = 0; i < last; i++) for (let j = 0; j < n0; j++) if (cell(i, j)?.state === 'running') return 'wait';
    return 'complete';
  }

  private newConfig(it: number, s: number, j: number, used: Set<string>): Params {
    // Coordinates, not history length, seed the draw: the same cell always gets the same draw.
    for (let attempt = 0; attempt < 50; attempt++) {
      const p = sample(this.space, rngFor(this.o.seed, it, s, j, attempt));
      if (!used.has(configKey(this.space, p))) return p;
    }
    return sample(this.space, rngFor(this.o.seed, it, s, j, 999));
  }
}
