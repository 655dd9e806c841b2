/** A trial's learning curve, built the one way from its metrics (the journal's replay, the dashboard's live view). */
import type { Metric } from './messages';

/**
 * An epoch's summary (validation scored) as opposed to a live point every K steps. The engine
 * puts the global step on summaries too, so the validation score is what tells them apart.
 */
export function isEpochSummary(m: Metric): boolean {
  return m.step === undefined || (m.val_loss !== null && m.val_loss !== undefined);
}

/** The last epoch summary of a curve: the epoch its trial's last checkpoint holds. */
export function lastEpoch(curve: Metric[]): number | undefined {
  let e: number | undefined;
  for (const m of curve) if (isEpochSummary(m) && (e === undefined || m.epoch > e)) e = m.epoch;
  return e;
}

function position(m: Metric): number {
  return (m.step ?? Number.MAX_SAFE_INTEGER) + (isEpochSummary(m) ? 0.5 : 0);
}

/** Order of curve points: by epoch, then step; an epoch's summary comes after its steps. */
function after(a: Metric, b: Metric): boolean {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch;
  return position(a) >= position(b);
}

/** Adds a metric to a trial's curve. A re-run re-emits epochs it already had: later points replace the old tail. */
export function appendMetric(curve: Metric[], m: Metric): void {
  while (curve.length && after(curve[curve.length - 1]!, m)) curve.pop();
  curve.push(m);
}
