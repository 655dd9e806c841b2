/**
 * Asynchronous successive halving (ASHA; Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt,
 * Recht, Talwalkar, MLSys 2020), early-stopping rate 0. Rungs train to min_epochs·η^k epochs
 * (k = 0, 1, …) up to max_epochs (added as the top rung when it is not itself such a power).
 * A worker that asks gets a promotion when some configuration in the top ⌊n_k/η⌋ of a rung
 * (n_k = runs finished at that rung) has not been promoted yet — highest rung first — else a
 * new configuration at the bottom rung. No worker ever waits for a rung to fill. A promotion
 * continues its checkpoint (`resumeFrom`), so it trains only the extra epochs.
 *
 * `sampler: 'tpe'` makes it BOHB-like (Falkner, Klein, Hutter, ICML 2018): new configurations
 * come from a (multivariate) TPE model, with a third still drawn at random. Unlike BOHB, which
 * models only the highest rung with enough results, the model sees every configuration, ranked
 * by the highest rung it reached and then by its loss there (how Optuna ranks pruned trials);
 * runs stopped at the bottom rung only count as worse than any promoted one (one epoch says
 * little). In the benchmark this beats plain ASHA when early epochs are informative and gets
 * stuck near (not at) the target when learning curves cross; plain ASHA is the safer default.
 */
import type { Params } from '../protocol/messages';
import { configKey, rngFor, sample, tunable, toLoss } from './space';
import { sampleTpe, type TpeObservation } from './tpe';
import type { Direction, SearchSpace, Suggestion, TrialRecord, Tuner } from './types';

export interface AshaOptions {
  minEpochs: number;
  maxEpochs: number;
  factor: number;
  seed: number;
  direction: Direction;
  /** Runs in all, promotions included (undefined: until the runner stops it). */
  maxTrials?: number;
  /** New configurations in all; after that only promotions happen, then done. */
  maxConfigs?: number;
  sampler?: 'random' | 'tpe';
  /** TPE draws per new configuration (BOHB mode). */
  candidates?: number;
  /** Fraction of new configurations drawn at random in BOHB mode. */
  randomFraction?: number;
}

export interface AshaTag {
  rung: number;
  config: number;
}

export function ashaTag(t: { tag?: Record<string, unknown> }): AshaTag | undefined {
  const a = t.tag?.asha as AshaTag | undefined;
  return a && typeof a.rung === 'number' && typeof a.config === 'number' ? a : undefined;
}

/** Epochs of each rung: min·η^k while ≤ max, then max itself when not reached exactly. */
export function ashaRungs(minEpochs: number, maxEpochs: number, factor: number): number[] {
  if (!(minEpochs >= 1 && maxEpochs >= minEpochs)) throw new Error(`asha: need 1 ≤ min_epochs (${minEpochs}) ≤ max_epochs (${maxEpochs})`);
  if (!(Number.isInteger(factor) && factor >= 2)) throw new Error(`asha: factor must be an integer ≥ 2 (got ${factor})`);
  const rungs: number[] = [];
  for (let e = minEpochs; e <= maxEpochs; e *= factor) rungs.push(e);
  if (rungs[rungs.length - 1] !== maxEpochs) rungs.push(maxEpochs);
  return rungs;
}

export class AshaTuner implements Tuner {
  readonly name: string;
  readonly rungs: number[];

  constructor(
    private readonly space: SearchSpace,
    private readonly o: AshaOptions,
  ) {
    this.rungs = ashaRungs(o.minEpochs, o.maxEpochs, o.factor);
    this.name = o.sampler === 'tpe' ? 'asha-bohb' : 'asha';
  }

  suggest(history: TrialRecord[]): Suggestion {
    if (this.o.maxTrials !== undefined && history.length >= this.o.maxTrials) return { kind: 'done' };
    const atRung: TrialRecord[][] = this.rungs.map(() => []);
    const promoted = new Set<string>();
    let configs = 0;
    for (const t of history) {
      const a = ashaTag(t);
      if (!a || a.rung >= this.rungs.length) continue;
      atRung[a.rung].push(t);
      promoted.add(`${a.rung}/${a.config}`);
      if (a.rung === 0) configs = Math.max(configs, a.config + 1);
    }
    // Highest rung first: finishing good configurations beats starting new ones.
    for (let k = this.rungs.length - 2; k >= 0; k--) {
      const finished = atRung[k].filter((t) => t.state !== 'running');
      const ranked = finished
        .map((t) => ({ t, loss: toLoss(t.state === 'complete' ? t.value : undefined, this.o.direction) }))
        .filter((r) => Number.isFinite(r.loss))
        .sort((a, b) => a.loss - b.loss || a.t.number - b.t.number);
      const top = ranked.slice(0, Math.floor(finished.length / this.o.factor));
      for (const r of top) {
        const c = ashaTag(r.t)!.config;
        if (promoted.has(`${k + 1}/${c}`)) continue;
        return { kind: 'trial', params: r.t.params, epochs: this.rungs[k + 1], resumeFrom: r.t.number, tag: { asha: { rung: k + 1, config: c } } };
      }
    }
    if (this.o.maxConfigs !== undefined && configs >= this.o.maxConfigs) {
      return history.some((t) => t.state === 'running') ? { kind: 'wait' } : { kind: 'done' };
    }
    return { kind: 'trial', params: this.newConfig(configs, history, atRung), epochs: this.rungs[0], tag: { asha: { rung: 0, config: configs } } };
  }

  /**
   * One TPE observation per configuration, ranked as Optuna ranks pruned trials: a configuration
   * that reached a higher rung beats any that stopped lower; within a rung, the lower loss wins.
   * A configuration still running its first rung counts as worst (pending).
   */
  private observations(atRung: TrialRecord[][]): TpeObservation[] {
    const best = new Map<number, TpeObservation>();
    const top = this.rungs.length;
    atRung.forEach((trials, k) => {
      for (const t of trials) {
        const c = ashaTag(t)!.config;
        // Stopped at the bottom rung says little with crossing curves: such a run only counts as worse than any promoted one.
        const loss = t.state === 'complete' && (k > 0 || this.rungs.length === 1) ? toLoss(t.value, this.o.direction) : Number.POSITIVE_INFINITY;
        // Rank key: (top − rung) dominates, the loss (squashed to (0, 1)) breaks ties.
        const key = Number.isFinite(loss) ? (top - k) + 0.5 + Math.atan(loss) / Math.PI : Number.POSITIVE_INFINITY;
        const prev = best.get(c);
        if (!prev || (Number.isFinite(key) && !(key >= prev.loss))) best.set(c, { params: t.params, loss: key, order: c });
      }
    });
    return [...best.values()];
  }

  private newConfig(id: number, history: TrialRecord[], atRung: TrialRecord[][]): Params {
    const used = new Set(history.map((t) => configKey(this.space, t.params)));
    const rng = rngFor(this.o.seed, id, 0xa5);
    if (this.o.sampler === 'tpe' && rng.next() >= (this.o.randomFraction ?? 1 / 3)) {
      const obs = this.observations(atRung);
      if (obs.filter((o) => Number.isFinite(o.loss)).length >= Math.max(tunable(this.space).length + 2, 6)) {
        const p = sampleTpe(this.space, obs, rng, { candidates: this.o.candidates ?? 24, used, multivariate: true });
        if (p) return p;
      }
    }
    for (let a = 0; a < 100; a++) {
      const p = sample(this.space, rngFor(this.o.seed, id, a));
      if (!used.has(configKey(this.space, p))) return p;
    }
    return sample(this.space, rngFor(this.o.seed, id, 100));
  }
}
