/**
 * Learning curves on a true epoch axis. The engine logs train loss every K optimizer steps with
 * the trial's global step, and one row per epoch with the validation scores (which also carries
 * the global step). A step row sits at step / steps-per-epoch, an epoch row at its epoch, so a
 * curve reads the same whether the trial logged every step, every 20 or once per epoch.
 */
import type { Metric, TrialView } from '../protocol/messages';
import { isEpochSummary } from '../protocol/curve';

export type CurveMetric = 'train_loss' | 'val_loss' | 'val_accuracy' | 'learning_rate';
export const CURVE_METRICS: CurveMetric[] = ['val_loss', 'val_accuracy', 'train_loss', 'learning_rate'];

export interface Point {
  x: number;
  y: number;
}

/**
 * Optimizer steps per epoch: exact from any epoch row (global step / epoch, every epoch has the
 * same number of steps), else from the train split's size and the trial's batch size.
 */
export function stepsPerEpoch(curve: readonly Metric[], batchSize: unknown, trainRows?: number): number | undefined {
  for (const m of curve) if (isEpochSummary(m) && m.step && m.epoch > 0) return m.step / m.epoch;
  if (trainRows && typeof batchSize === 'number' && batchSize > 0) return Math.ceil(trainRows / batchSize);
  return undefined;
}

/** Where a row sits on the epoch axis (fractional inside an epoch for step rows). */
function positions(curve: readonly Metric[], spe: number | undefined): number[] {
  // Without steps per epoch (first epoch of a study never split before), spread an epoch's step
  // rows evenly inside it until its epoch row arrives.
  const perEpoch = new Map<number, number>();
  if (spe === undefined) for (const m of curve) if (!isEpochSummary(m)) perEpoch.set(m.epoch, (perEpoch.get(m.epoch) ?? 0) + 1);
  const seen = new Map<number, number>();
  return curve.map((m) => {
    if (isEpochSummary(m) || m.step === undefined) return m.epoch;
    if (spe !== undefined) return m.step / spe;
    const k = (seen.get(m.epoch) ?? 0) + 1;
    seen.set(m.epoch, k);
    return m.epoch - 1 + k / (perEpoch.get(m.epoch)! + 1);
  });
}

/** One metric of a curve as points: validation scores per epoch, train loss and learning rate per logged row. */
export function curvePoints(curve: readonly Metric[], metric: CurveMetric, spe: number | undefined): Point[] {
  const xs = positions(curve, spe);
  const out: Point[] = [];
  curve.forEach((m, i) => {
    const validation = metric === 'val_loss' || metric === 'val_accuracy';
    if (validation && !isEpochSummary(m)) return;
    const y = m[metric];
    if (typeof y === 'number' && Number.isFinite(y)) out.push({ x: xs[i]!, y });
  });
  return out;
}

/**
 * The epochs a promoted trial continued from its parents' checkpoints (Hyperband, ASHA), oldest
 * first: each parent's rows up to the epoch its checkpoint held. A promotion that trained from
 * scratch inherits nothing.
 */
export function inheritedCurves(t: TrialView, byNumber: ReadonlyMap<number, TrialView>): Array<{ from: number; curve: Metric[] }> {
  const out: Array<{ from: number; curve: Metric[] }> = [];
  let child = t;
  let upTo = t.inheritedEpochs;
  const visited = new Set<number>([t.number]);
  while (child.resumeFrom !== undefined && upTo !== undefined && upTo > 0) {
    const parent = byNumber.get(child.resumeFrom);
    if (!parent || visited.has(parent.number)) break;
    visited.add(parent.number);
    const limit = upTo;
    out.unshift({ from: parent.number, curve: (parent.curve ?? []).filter((m) => m.epoch <= limit) });
    upTo = parent.inheritedEpochs === undefined ? undefined : Math.min(limit, parent.inheritedEpochs);
    child = parent;
  }
  return out;
}
