/**
 * Search-space arithmetic shared by every tuner: sampling, encoding a configuration to the
 * unit cube (log scale where declared, one-hot for choices) and back, grid enumeration, and a
 * stable key per configuration so no tuner runs the same configuration twice by accident.
 */
import type { Params, ParamValue } from '../protocol/messages';
import { Rng } from '../core/rng';
import type { DimensionSpec } from '../core/study';
import type { Dimension, SearchSpace } from './types';

/** A study file's search space as the tuners take it (ordered list of named dimensions). */
export function toSearchSpace(space: Record<string, DimensionSpec>): SearchSpace {
  return Object.entries(space).map(([name, d]) => ({ name, ...d }) as Dimension);
}

/** A deterministic stream for (seed, a, b, …): the same coordinates give the same numbers. */
export function rngFor(seed: number, ...coords: number[]): Rng {
  let h = Math.imul(seed | 0, 0x9e3779b1) ^ 0x7f4a7c15;
  for (const c of coords) {
    h = Math.imul(h ^ (c | 0), 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae3d);
    h ^= h >>> 13;
  }
  return new Rng(h | 0);
}

/** Tunable dimensions (fixed ones carry no information). */
export function tunable(space: SearchSpace): Dimension[] {
  return space.filter((d) => d.type !== 'fixed');
}

function choices(d: Dimension): ParamValue[] {
  if (d.type === 'choice') return d.values;
  if (d.type === 'bool') return [false, true];
  return [];
}

/** Width of a dimension in the encoded vector: one-hot for choices, one column otherwise. */
export function encodedWidth(d: Dimension): number {
  if (d.type === 'fixed') return 0;
  if (d.type === 'choice') return d.values.length;
  return 1;
}

export function encodedSize(space: SearchSpace): number {
  return space.reduce((a, d) => a + encodedWidth(d), 0);
}

/** Position of a numeric value on [0, 1] (log scale where declared). */
export function toUnit(d: Extract<Dimension, { type: 'float' | 'int' }>, v: number): number {
  if (d.log) return (Math.log(v) - Math.log(d.low)) / (Math.log(d.high) - Math.log(d.low));
  return (v - d.low) / (d.high - d.low);
}

/** The value at position u ∈ [0, 1], snapped to the int step where there is one. */
export function fromUnit(d: Extract<Dimension, { type: 'float' | 'int' }>, u: number): number {
  const c = Math.min(1, Math.max(0, u));
  const raw = d.log ? Math.exp(Math.log(d.low) + c * (Math.log(d.high) - Math.log(d.low))) : d.low + c * (d.high - d.low);
  if (d.type === 'float') return Math.min(d.high, Math.max(d.low, raw));
  const step = d.step ?? 1;
  const snapped = d.low + Math.round((raw - d.low) / step) * step;
  const top = d.low + Math.floor((d.high - d.low) / step) * step;
  return Math.min(top, Math.max(d.low, snapped));
}

/** Uniform draw from one dimension (log-uniform where declared). */
export function sampleDim(d: Dimension, rng: Rng): ParamValue {
  switch (d.type) {
    case 'fixed':
      return d.value;
    case 'bool':
      return rng.next() < 0.5;
    case 'choice':
      return d.values[rng.int(d.values.length)];
    case 'float':
      return fromUnit(d, rng.next());
    case 'int': {
      // Every allowed integer equally likely (log: uniform on the log scale, then snapped).
      if (d.log) return fromUnit(d, rng.next());
      const step = d.step ?? 1;
      const count = Math.floor((d.high - d.low) / step) + 1;
      return d.low + rng.int(count) * step;
    }
  }
}

export function sample(space: SearchSpace, rng: Rng): Params {
  const p: Params = {};
  for (const d of space) p[d.name] = sampleDim(d, rng);
  return p;
}

/** Encodes a configuration to [0, 1]^encodedSize(space). */
export function encode(space: SearchSpace, params: Params): number[] {
  const x: number[] = [];
  for (const d of space) {
    const v = params[d.name];
    if (d.type === 'fixed') continue;
    if (d.type === 'float' || d.type === 'int') x.push(toUnit(d, Number(v)));
    else if (d.type === 'bool') x.push(v === true ? 1 : 0);
    else for (const c of d.values) x.push(c === v ? 1 : 0);
  }
  return x;
}

/** Decodes a point of the unit cube (one-hot blocks by arg-max). */
export function decode(space: SearchSpace, x: ArrayLike<number>): Params {
  const p: Params = {};
  let i = 0;
  for (const d of space) {
    if (d.type === 'fixed') p[d.name] = d.value;
    else if (d.type === 'float' || d.type === 'int') p[d.name] = fromUnit(d, x[i++]);
    else if (d.type === 'bool') p[d.name] = x[i++] >= 0.5;
    else {
      let best = 0;
      for (let k = 1; k < d.values.length; k++) if (x[i + k] > x[i + best]) best = k;
      p[d.name] = d.values[best];
      i += d.values.length;
    }
  }
  return p;
}

/** Stable identity of a configuration: values in space order, floats to 12 significant digits. */
export function configKey(space: SearchSpace, params: Params): string {
  return JSON.stringify(
    space.map((d) => {
      const v = params[d.name];
      return typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v;
    }),
  );
}

/** Values a grid visits along one dimension; floats get `floatPoints` points (log or linear). */
export function gridValues(d: Dimension, floatPoints = 4): ParamValue[] {
  if (d.type === 'fixed') return [d.value];
  if (d.type === 'choice' || d.type === 'bool') return choices(d);
  const n = Math.max(2, floatPoints);
  if (d.type === 'int') {
    const step = d.step ?? 1;
    const count = Math.floor((d.high - d.low) / step) + 1;
    if (count <= Math.max(n, 10) && !d.log) return Array.from({ length: count }, (_, k) => d.low + k * step);
  }
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const v = fromUnit(d, k / (n - 1));
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Every grid configuration, first dimension varying slowest. */
export function gridPoints(space: SearchSpace, floatPoints = 4): Params[] {
  let out: Params[] = [{}];
  for (const d of space) {
    const vals = gridValues(d, floatPoints);
    const next: Params[] = [];
    for (const p of out) for (const v of vals) next.push({ ...p, [d.name]: v });
    out = next;
  }
  return out;
}

/** Number of grid points, without building them. */
export function gridSize(space: SearchSpace, floatPoints = 4): number {
  return space.reduce((a, d) => a * gridValues(d, floatPoints).length, 1);
}

/** Maps a minimisation objective onto the study's direction: tuners minimise internally. */
export function toLoss(value: number | undefined, direction: 'minimize' | 'maximize'): number {
  if (value === undefined || !Number.isFinite(value)) return Number.POSITIVE_INFINITY;
  return direction === 'minimize' ? value : -value;
}
