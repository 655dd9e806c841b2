/** Allocation failures the engine tests inject through TrainHooks.beforePass, without filling memory. */
import type { TrainHooks } from '../src/engine';

/** The two ways a full heap fails: a JS ArrayBuffer allocation, or a trap inside a wasm kernel. */
const FAILURES = {
  arraybuffer: () => new RangeError('Array buffer allocation failed (simulated)'),
  wasm: () => new WebAssembly.RuntimeError('memory access out of bounds (simulated)'),
};

/** Fails every pass over more than `rows` rows as a full heap does. */
export function failPassesAbove(rows: number, as: keyof typeof FAILURES = 'arraybuffer'): NonNullable<TrainHooks['beforePass']> {
  return (n) => {
    if (n > rows) throw FAILURES[as]();
  };
}
