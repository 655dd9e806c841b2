import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng';
import { configKey, decode, encode, encodedSize, gridPoints, gridSize, gridValues, sample } from '../../src/tuners/space';
import { GridTuner } from '../../src/tuners/grid';
import { RandomTuner } from '../../src/tuners/random';
import type { TrialRecord } from '../../src/tuners/types';
import { mixedSpace } from './fixtures';
import { simulate } from './sim';

test('samples stay in range, respect log scale, steps and choices; encode/decode round-trips', () => {
  const rng = new Rng(1);
  let belowGeoMid = 0;
  for (let i = 0; i < 2000; i++) {
    const p = sample(mixedSpace, rng);
    assert.ok(Number(p.lr) >= 1e-5 && Number(p.lr) <= 1e-1);
    if (Number(p.lr) < 1e-3) belowGeoMid++;
    assert.ok(Number.isInteger(p.layers) && Number(p.layers) >= 1 && Number(p.layers) <= 6);
    assert.ok([32, 64, 128].includes(p.batch as number));
    assert.equal(typeof p.freeze, 'boolean');
    assert.equal(p.seq, 128);
    const x = encode(mixedSpace, p);
    assert.equal(x.length, encodedSize(mixedSpace));
    assert.ok(x.every((v) => v >= 0 && v <= 1));
    assert.equal(configKey(mixedSpace, decode(mixedSpace, x)), configKey(mixedSpace, p));
  }
  // Log-uniform: half the draws fall below the geometric midpoint 1e-3.
  assert.ok(Math.abs(belowGeoMid / 2000 - 0.5) < 0.05, `below geometric midpoint: ${belowGeoMid}`);
});

test('int steps snap and never exceed high', () => {
  const space = [{ type: 'int' as const, name: 'w', low: 500, high: 2000, step: 500 }];
  assert.deepEqual(gridValues(space[0]), [500, 1000, 1500, 2000]);
  const d = decode(space, [0.99]);
  assert.equal(d.w, 2000);
  const odd = [{ type: 'int' as const, name: 'k', low: 0, high: 10, step: 3 }];
  assert.equal(decode(odd, [1]).k, 9);
});

test('grid: log-spaced floats, every point exactly once, then done', () => {
  const space = [
    { type: 'float' as const, name: 'lr', low: 1e-4, high: 1e-1, log: true },
    { type: 'choice' as const, name: 'b', values: [16, 32] },
    { type: 'bool' as const, name: 'f' },
  ];
  assert.deepEqual(gridValues(space[0]).map((v) => Number((v as number).toPrecision(6))), [1e-4, 1e-3, 1e-2, 1e-1]);
  assert.equal(gridSize(space), 16);
  assert.equal(gridPoints(space, 3).length, 12);
  const trials = simulate(new GridTuner(space), { workers: 3, objective: () => 1 });
  assert.equal(trials.length, 16);
  assert.equal(new Set(trials.map((t) => configKey(space, t.params))).size, 16);
});

test('random: seeded, rebuildable from the history, no duplicates even in a small space', () => {
  const small = [{ type: 'choice' as const, name: 'a', values: [1, 2, 3] }, { type: 'bool' as const, name: 'b' }];
  const trials = simulate(new RandomTuner(small, { seed: 4 }), { workers: 2, objective: () => 0, maxTrials: 50 });
  assert.equal(trials.length, 6, 'stops once the 6 configurations are used');
  assert.equal(new Set(trials.map((t) => configKey(small, t.params))).size, 6);
  const h: TrialRecord[] = [];
  const a = new RandomTuner(mixedSpace, { seed: 9 }).suggest(h);
  const b = new RandomTuner(mixedSpace, { seed: 9 }).suggest(h);
  const c = new RandomTuner(mixedSpace, { seed: 10 }).suggest(h);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});
