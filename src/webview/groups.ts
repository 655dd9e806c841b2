/**
 * Group by a hyperparameter (as W&B groups runs): trials that share a value — a seed's repeats, a
 * max_seq_len's runs, a batch size — become one group with n, the mean ± std of their score and
 * of their validation curve per epoch, and Welch's t-test of each group against the best one,
 * the same test the CLI's sequence-length report uses.
 */
import type { TrialView } from '../protocol/messages';
import { mean, std, welchTTest } from '../tuners/stats';
import { curvePoints, type CurveMetric } from './curves';

export interface MeanStd {
  mean: number | null;
  std: number | null;
}

export interface Group {
  /** The shared value, as text. */
  key: string;
  trials: TrialView[];
  /** Trials with a score (complete). */
  n: number;
  score: MeanStd;
  /** The other validation metric at the best epoch. */
  other: MeanStd;
  /** Welch's two-sided p against the best group (null for the best, or below two scores a side). */
  p: number | null;
  /** Mean ± std of the metric per epoch, over the group's trials that reached it. */
  curve: Array<{ x: number; mean: number; std: number; n: number }>;
}

export interface Grouping {
  by: string;
  groups: Group[];
  best: string | null;
  runnerUp: string | null;
}

/** The pseudo-parameter that groups trials with identical hyperparameters but their seed. */
export const CONFIGURATION = '(configuration)';

function stat(xs: number[]): MeanStd {
  return { mean: xs.length ? mean(xs) : null, std: xs.length > 1 ? std(xs) : null };
}

function groupKey(t: TrialView, by: string): string {
  if (by === CONFIGURATION) return JSON.stringify(Object.entries(t.params).filter(([k]) => k !== 'seed').sort(([a], [b]) => a.localeCompare(b)));
  if (by === 'max_seq_len' && t.seqlen) return String(t.seqlen.maxLen);
  return String(t.params[by] ?? '—');
}

/**
 * What trials can be grouped by: a parameter with 2–12 values some of which repeat, and (when
 * several parameters vary) identical configurations run more than once, e.g. with other seeds.
 */
export function groupOptions(trials: readonly TrialView[]): string[] {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const groups = (by: string): number => new Set(trials.map((t) => groupKey(t, by))).size;
  const out = names.filter((n) => groups(n) >= 2 && groups(n) <= 12 && groups(n) < trials.length);
  const varying = names.filter((n) => n !== 'seed' && groups(n) >= 2).length;
  const configs = groups(CONFIGURATION);
  if (varying >= 2 && configs >= 2 && configs <= 12 && configs < trials.length) out.unshift(CONFIGURATION);
  return out;
}

export function groupTrials(trials: readonly TrialView[], by: string, metric: 'val_loss' | 'val_accuracy', direction: 'minimize' | 'maximize'): Grouping {
  const byKey = new Map<string, TrialView[]>();
  for (const t of trials) byKey.set(groupKey(t, by), [...(byKey.get(groupKey(t, by)) ?? []), t]);
  const scoreOf = (t: TrialView): number | undefined => (metric === 'val_loss' ? t.valLoss : t.valAccuracy);
  const otherOf = (t: TrialView): number | undefined => (metric === 'val_loss' ? t.valAccuracy : t.valLoss);
  const scores = new Map<string, number[]>();
  const groups: Group[] = [...byKey].map(([key, list]) => {
    const done = list.filter((t) => t.state === 'complete');
    const s = done.map(scoreOf).filter((v): v is number => v !== undefined);
    scores.set(key, s);
    return { key, trials: list, n: s.length, score: stat(s), other: stat(done.map(otherOf).filter((v): v is number => v !== undefined)), p: null, curve: meanCurve(list, metric) };
  });
  const sign = direction === 'minimize' ? 1 : -1;
  const ranked = groups.filter((g) => g.score.mean !== null).sort((a, b) => sign * (a.score.mean! - b.score.mean!));
  const best = ranked[0];
  for (const g of groups) {
    if (!best || g === best) continue;
    const a = scores.get(best.key)!;
    const b = scores.get(g.key)!;
    g.p = a.length >= 2 && b.length >= 2 ? welchTTest(a, b).p : null;
  }
  // Numbers sort as numbers (64 < 128), everything else as text.
  groups.sort((a, b) => (Number.isFinite(Number(a.key)) && Number.isFinite(Number(b.key)) ? Number(a.key) - Number(b.key) : a.key.localeCompare(b.key)));
  return { by, groups, best: best?.key ?? null, runnerUp: ranked[1]?.key ?? null };
}

function meanCurve(trials: readonly TrialView[], metric: CurveMetric): Group['curve'] {
  const byEpoch = new Map<number, number[]>();
  for (const t of trials) for (const p of curvePoints(t.curve ?? [], metric, undefined)) byEpoch.set(p.x, [...(byEpoch.get(p.x) ?? []), p.y]);
  return [...byEpoch]
    .sort((a, b) => a[0] - b[0])
    .map(([x, ys]) => ({ x, mean: mean(ys), std: ys.length > 1 ? std(ys) : 0, n: ys.length }));
}
