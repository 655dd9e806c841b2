/**
 * A discrete-event simulation of the study runner for tuner tests: `workers` slots ask the
 * tuner for work whenever free; a run takes as long as the epochs it trains (only the extra
 * epochs when it resumes a checkpoint); its value is objective(params, totalEpochs).
 * Mirrors what the real runner hands tuners: running trials in the history, tags given back.
 */
import type { Params } from '../../src/protocol/messages';
import type { Suggestion, TrialRecord, Tuner } from '../../src/tuners/types';

export interface SimTrial extends TrialRecord {
  resumeFrom?: number;
  trainedEpochs: number;
  startedAt: number;
  endsAt: number;
}

export interface SimOptions {
  workers: number;
  /** Objective for a configuration trained to `epochs` total epochs. */
  objective: (params: Params, epochs: number, number: number) => number;
  /** Epochs when the suggestion does not say. */
  epochs?: number;
  /** Stop after this many trials. */
  maxTrials?: number;
  /** Called before each suggestion with the history the tuner gets (for determinism checks). */
  onSuggest?: (history: TrialRecord[], s: Suggestion) => void;
  /** Durations jitter (deterministic per trial number) to make workers finish out of order. */
  jitter?: (n: number) => number;
}

export function simulate(tuner: Tuner, o: SimOptions): SimTrial[] {
  const trials: SimTrial[] = [];
  let now = 0;
  const view = (): TrialRecord[] =>
    trials.map((t) => ({
      number: t.number,
      params: t.params,
      state: t.endsAt <= now ? t.state : 'running',
      ...(t.endsAt <= now && t.value !== undefined ? { value: t.value } : {}),
      ...(t.epochs !== undefined ? { epochs: t.epochs } : {}),
      ...(t.tag ? { tag: t.tag } : {}),
    }));
  for (let guard = 0; guard < 100000; guard++) {
    const running = trials.filter((t) => t.endsAt > now).length;
    let s: Suggestion = { kind: 'wait' };
    if (running < o.workers && (o.maxTrials === undefined || trials.length < o.maxTrials)) {
      const h = view();
      s = tuner.suggest(h);
      o.onSuggest?.(h, s);
    } else if (running === 0) break;
    if (s.kind === 'trial') {
      const epochs = s.epochs ?? o.epochs ?? 1;
      const from = s.resumeFrom !== undefined ? trials.find((t) => t.number === s.resumeFrom) : undefined;
      if (s.resumeFrom !== undefined && !from) throw new Error(`resumeFrom ${s.resumeFrom} does not exist`);
      if (from && from.endsAt > now) throw new Error(`trial ${trials.length} resumes trial ${from.number} which is still running`);
      const trained = epochs - (from?.epochs ?? 0);
      if (trained <= 0) throw new Error(`trial ${trials.length} trains ${trained} epochs`);
      const n = trials.length;
      const dur = trained * (o.jitter ? o.jitter(n) : 1);
      trials.push({
        number: n,
        params: s.params,
        state: 'complete',
        value: o.objective(s.params, epochs, n),
        epochs,
        ...(s.tag ? { tag: s.tag } : {}),
        ...(s.resumeFrom !== undefined ? { resumeFrom: s.resumeFrom } : {}),
        trainedEpochs: trained,
        startedAt: now,
        endsAt: now + dur,
      });
      continue;
    }
    if (s.kind === 'done' && running === 0) break;
    const next = Math.min(...trials.filter((t) => t.endsAt > now).map((t) => t.endsAt));
    if (!Number.isFinite(next)) {
      if (s.kind === 'wait') throw new Error('tuner waits although nothing is running');
      break;
    }
    now = next;
  }
  now = Infinity;
  return trials;
}

/** Deterministic pseudo-random jitter in [0.5, 1.5) per trial number. */
export function jitter(seed: number): (n: number) => number {
  return (n) => {
    let h = Math.imul(n + 1, 0x9e3779b1) ^ seed;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
    return 0.5 + ((h >>> 0) % 1000) / 1000;
  };
}
