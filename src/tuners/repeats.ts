/**
 * Repeats: run every configuration k times with different seeds, keep every value, and rank by
 * the mean. `withRepeats(inner, k)` wraps any tuner: each suggestion of the inner tuner becomes
 * k trials tagged {config, repeat} (the runner seeds each with base + repeat), and the inner
 * tuner sees one record per configuration whose value is the mean of the finished repeats,
 * once all k have finished. Promotions (Hyperband/ASHA) continue the same repeat's checkpoint.
 */
import type { Params } from '../protocol/messages';
import { mean, std } from './stats';
import type { Suggestion, TrialRecord, Tuner } from './types';

export interface RepeatTag {
  config: number;
  repeat: number;
}

export function repeatTag(t: { tag?: Record<string, unknown> }): RepeatTag | undefined {
  const c = t.tag?.config;
  const r = t.tag?.repeat;
  return typeof c === 'number' && typeof r === 'number' ? { config: c, repeat: r } : undefined;
}

export interface RepeatSummary {
  config: number;
  params: Params;
  /** Trial numbers, by repeat. */
  trials: number[];
  /** Objective of every finished repeat, by repeat (undefined where it did not finish). */
  values: Array<number | undefined>;
  n: number;
  mean: number;
  /** Sample standard deviation (NaN below two values). */
  std: number;
  state: TrialRecord['state'];
}

/** Trials of each configuration, indexed by repeat (trials without a repeat tag are left out). */
function groupByConfig(history: TrialRecord[]): Map<number, TrialRecord[]> {
  const groups = new Map<number, TrialRecord[]>();
  for (const t of history) {
    const tag = repeatTag(t);
    if (!tag) continue;
    const g = groups.get(tag.config) ?? [];
    g[tag.repeat] = t;
    groups.set(tag.config, g);
  }
  return groups;
}

/** Groups trials by configuration; `repeats` is how many each configuration should have. */
export function summariseRepeats(history: TrialRecord[], repeats: number): RepeatSummary[] {
  const groups = groupByConfig(history);
  const out: RepeatSummary[] = [];
  for (const [config, g] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    const first = g.find((t) => t !== undefined)!;
    const values = Array.from({ length: repeats }, (_, r) => (g[r]?.state === 'complete' && Number.isFinite(g[r]?.value ?? NaN) ? g[r]!.value : undefined));
    const finite = values.filter((v): v is number => v !== undefined);
    const issued = g.filter((t) => t !== undefined);
    let state: TrialRecord['state'];
    if (issued.length < repeats || issued.some((t) => t.state === 'running')) state = 'running';
    else if (finite.length) state = 'complete';
    else state = issued.some((t) => t.state === 'pruned') ? 'pruned' : 'failed';
    out.push({ config, params: first.params, trials: Array.from({ length: repeats }, (_, r) => g[r]?.number ?? -1), values, n: finite.length, mean: mean(finite), std: std(finite), state });
  }
  return out;
}

/** Finished configurations, best mean first. */
export function rankByMean(summaries: RepeatSummary[], direction: 'minimize' | 'maximize'): RepeatSummary[] {
  return summaries
    .filter((s) => s.state === 'complete' && s.n > 0)
    .sort((a, b) => (direction === 'minimize' ? a.mean - b.mean : b.mean - a.mean) || a.config - b.config);
}

export function withRepeats(inner: Tuner, repeats: number): Tuner {
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error(`repeats must be a positive integer (got ${repeats})`);
  if (repeats === 1) return inner;
  return {
    name: `${inner.name}×${repeats}`,
    suggest(history: TrialRecord[]): Suggestion {
      const groups = groupByConfig(history);
      // First finish issuing the repeats of a configuration already started.
      for (const [config, g] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
        for (let r = 0; r < repeats; r++) {
          if (g[r]) continue;
          const first = g.find((t) => t !== undefined)!;
          return emit(first.params, first.epochs, first.tag?.inner as Record<string, unknown> | undefined, first.tag?.from as number | undefined, config, r, groups);
        }
      }
      const virtual: TrialRecord[] = summariseRepeats(history, repeats).map((s) => {
        const g = groups.get(s.config)!;
        const first = g.find((t) => t !== undefined)!;
        return {
          number: s.config,
          params: s.params,
          state: s.state,
          ...(s.n > 0 ? { value: s.mean } : {}),
          intermediate: meanCurve(g),
          ...(first.epochs !== undefined ? { epochs: first.epochs } : {}),
          ...(first.tag?.inner ? { tag: first.tag.inner as Record<string, unknown> } : {}),
        };
      });
      const s = inner.suggest(virtual);
      if (s.kind !== 'trial') return s;
      return emit(s.params, s.epochs, s.tag, s.resumeFrom, groups.size ? Math.max(...groups.keys()) + 1 : 0, 0, groups);
    },
  };

  function emit(
    params: Params,
    epochs: number | undefined,
    innerTag: Record<string, unknown> | undefined,
    from: number | undefined,
    config: number,
    repeat: number,
    groups: Map<number, TrialRecord[]>,
  ): Suggestion {
    // A promotion of virtual configuration `from` continues the same repeat's trial.
    const resumeFrom = from !== undefined ? groups.get(from)?.[repeat]?.number : undefined;
    return {
      kind: 'trial',
      params,
      ...(epochs !== undefined ? { epochs } : {}),
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      tag: { config, repeat, ...(innerTag ? { inner: innerTag } : {}), ...(from !== undefined ? { from } : {}) },
    };
  }
}

/** Mean learning curve over repeats (epochs all repeats reached). */
function meanCurve(g: TrialRecord[]): number[] {
  const curves = g.filter((t) => t !== undefined).map((t) => t.intermediate ?? []);
  if (!curves.length) return [];
  const len = Math.min(...curves.map((c) => c.length));
  return Array.from({ length: len }, (_, e) => mean(curves.map((c) => c[e])));
}
