/** Chart series derived from trials: best-so-far line, parallel-coordinate axes. */
import type { TrialView } from '../protocol/messages';

export function bestSoFar(done: TrialView[], direction: 'minimize' | 'maximize'): Array<{ x: number; y: number }> {
  let best: number | undefined;
  return done.map((t) => {
    const v = t.value!;
    if (best === undefined || (direction === 'minimize' ? v < best : v > best)) best = v;
    return { x: t.number, y: best };
  });
}

/**
 * One numeric axis per varying hyperparameter, then the objective. Categorical values (strings,
 * booleans) are placed at their index among the sorted distinct values.
 */
export function pcpAxes(done: TrialView[], metric: string): Array<{ label: string; values: number[] }> {
  const names = [...new Set(done.flatMap((t) => Object.keys(t.params)))].sort();
  const axes: Array<{ label: string; values: number[] }> = [];
  for (const name of names) {
    const raw = done.map((t) => t.params[name]);
    const distinct = [...new Set(raw.map((v) => String(v)))];
    if (distinct.length < 2) continue;
    if (raw.every((v) => typeof v === 'number')) {
      const nums = raw as number[];
      const lo = Math.min(...nums);
      // Learning rates span orders of magnitude: a log axis shows them evenly.
      if (/learning_rate|(^|_)lr$|weight_decay/.test(name) && lo > 0 && Math.max(...nums) / lo >= 10) axes.push({ label: `log10 ${name}`, values: nums.map((v) => Math.log10(v)) });
      else axes.push({ label: name, values: nums });
    }
    else {
      const order = distinct.sort();
      axes.push({ label: `${name} (${order.join('/')})`, values: raw.map((v) => order.indexOf(String(v))) });
    }
  }
  axes.push({ label: metric, values: done.map((t) => t.value!) });
  return axes;
}
