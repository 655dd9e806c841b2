/**
 * Chart series derived from trials, shaped the way optuna-dashboard shapes them: the
 * best-so-far line, parallel-coordinate axes (log10 where the search space is log, categories in
 * the space's order, ranges from the space), slice points per hyperparameter and a colour for
 * each objective value.
 */
import type { SpaceDim, StudyView, TrialView } from '../protocol/messages';

export function bestSoFar(done: TrialView[], direction: 'minimize' | 'maximize'): Array<{ x: number; y: number }> {
  let best: number | undefined;
  return done.map((t) => {
    const v = t.value!;
    if (best === undefined || (direction === 'minimize' ? v < best : v > best)) best = v;
    return { x: t.number, y: best };
  });
}

/** Trials with an objective value, by number: what history, slice and PCP draw. */
export function scoredTrials(view: StudyView): TrialView[] {
  return view.trials.filter((t) => t.value !== null && Number.isFinite(t.value) && (t.state === 'complete' || t.state === 'pruned')).sort((a, b) => a.number - b.number);
}

/** How one hyperparameter is placed on an axis. */
export interface ParamAxis {
  name: string;
  /** Positions: log10 of the value on a log axis, the category's index on a categorical one. */
  values: number[];
  log: boolean;
  /** Category labels in axis order (categorical axes). */
  categories?: string[];
  /** Axis range in positions (from the search space when known). */
  min?: number;
  max?: number;
}

/** A learning rate is log-scaled even when an old study file does not say so. */
const LOG_BY_NAME = /learning_rate|(^|_)lr$|weight_decay/;

export function paramAxis(name: string, trials: readonly TrialView[], dim?: SpaceDim): ParamAxis {
  const raw = trials.map((t) => t.params[name]);
  const numeric = raw.every((v) => typeof v === 'number');
  const categorical = !numeric || dim?.type === 'choice' || dim?.type === 'bool';
  if (categorical) {
    const fromSpace = dim?.values?.map(String) ?? [];
    const seen = [...new Set(raw.map(String))].sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)));
    const categories = [...fromSpace, ...seen.filter((v) => !fromSpace.includes(v))];
    return { name, values: raw.map((v) => categories.indexOf(String(v))), log: false, categories, min: 0, max: Math.max(1, categories.length - 1) };
  }
  const nums = raw as number[];
  const lo = Math.min(...nums);
  const log = dim?.log ?? (LOG_BY_NAME.test(name) && lo > 0 && Math.max(...nums) / lo >= 10);
  if (log) {
    const min = dim?.low !== undefined && dim.low > 0 ? Math.log10(dim.low) : undefined;
    const max = dim?.high !== undefined && dim.high > 0 ? Math.log10(dim.high) : undefined;
    return { name, values: nums.map((v) => Math.log10(v)), log, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  }
  return { name, values: nums, log: false, ...(dim?.low !== undefined ? { min: dim.low } : {}), ...(dim?.high !== undefined ? { max: dim.high } : {}) };
}

/** Hyperparameters that vary between these trials, in the search space's order, then the rest. */
export function varyingParams(trials: readonly TrialView[], space: StudyView['space']): string[] {
  const seen = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const order = [...Object.keys(space ?? {}).filter((n) => seen.includes(n)), ...seen.filter((n) => !(space && n in space)).sort()];
  return order.filter((n) => new Set(trials.map((t) => String(t.params[n]))).size > 1);
}

/** The tick label of an axis position: the value itself (10^x on a log axis, the category's name). */
export function axisLabel(axis: Pick<ParamAxis, 'log' | 'categories'>, position: number): string {
  if (axis.categories) return Number.isInteger(position) ? (axis.categories[position] ?? '') : '';
  if (axis.log) return Number((10 ** position).toPrecision(2)).toExponential();
  const v = position;
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/**
 * Ticks for a log axis over [lo, hi] that stay legible: every mantissa of a decade when at most
 * `most` fall inside, else the 1-2-5 steps, else the powers of ten; on a range too narrow for two
 * of those, its two ends. (Chart.js labels every mantissa of a narrow log range, and a slice
 * over 3.4e-4–7e-4 printed "3.4e-43.6e-43.8e-4" on top of each other.)
 */
export function logTicks(lo: number, hi: number, most = 6): number[] {
  const within = (mantissas: number[]) => {
    const out: number[] = [];
    for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** k).toPrecision(3));
        if (v >= lo && v <= hi) out.push(v);
      }
    }
    return out;
  };
  for (const mantissas of [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1]]) {
    const ticks = within(mantissas);
    if (ticks.length <= most) return ticks.length >= 2 ? ticks : [lo, hi];
  }
  return within([1]).filter((_, i, all) => i % Math.ceil(all.length / most) === 0);
}

/**
 * A colour per objective value on a sequential scale (viridis stops, the stretch [from, to] of
 * it): the best values are the brightest, whatever the direction.
 */
const VIRIDIS: Array<[number, number, number]> = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function objectiveColor(value: number, min: number, max: number, direction: 'minimize' | 'maximize', alpha = 1, from = 0, to = 1): string {
  let f = max > min ? (value - min) / (max - min) : 1;
  if (direction === 'minimize') f = 1 - f;
  const pos = (from + (to - from) * Math.min(1, Math.max(0, f))) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const k = pos - i;
  const [a, b] = [VIRIDIS[i]!, VIRIDIS[i + 1]!];
  const c = a.map((x, j) => Math.round(x + (b[j]! - x) * k));
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}
