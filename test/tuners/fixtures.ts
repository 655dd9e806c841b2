/** Shared pieces of the tuner tests: spaces and deterministic objectives. */
import type { Params } from '../../src/protocol/messages';
import type { SearchSpace } from '../../src/tuners/types';

export const space2d: SearchSpace = [
  { type: 'float', name: 'x', low: -1, high: 1 },
  { type: 'float', name: 'y', low: -1, high: 1 },
];

/** 2-D quadratic with its minimum 0 at (0.3, −0.2). */
export function quadratic(p: Params): number {
  return (Number(p.x) - 0.3) ** 2 + 2 * (Number(p.y) + 0.2) ** 2;
}

/** A learning curve: final loss from the configuration, plus a decaying term. */
export function curve(p: Params, epochs: number): number {
  return quadratic(p) + 0.5 * Math.exp(-0.3 * epochs);
}

export const mixedSpace: SearchSpace = [
  { type: 'float', name: 'lr', low: 1e-5, high: 1e-1, log: true },
  { type: 'int', name: 'layers', low: 1, high: 6 },
  { type: 'choice', name: 'batch', values: [32, 64, 128] },
  { type: 'bool', name: 'freeze' },
  { type: 'fixed', name: 'seq', value: 128 },
];
