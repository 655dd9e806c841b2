import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng';

test('fillNormal: repeats for a seed, differs for another, has the asked standard deviation, fills odd lengths', () => {
  const a = new Rng(7).fillNormal(new Float32Array(200_001), 0.02);
  const b = new Rng(7).fillNormal(new Float32Array(200_001), 0.02);
  const c = new Rng(8).fillNormal(new Float32Array(200_001), 0.02);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  let sum = 0;
  let sq = 0;
  for (const x of a) {
    sum += x;
    sq += x * x;
  }
  const mean = sum / a.length;
  const std = Math.sqrt(sq / a.length - mean * mean);
  assert.ok(Math.abs(mean) < 2e-4, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.02) < 2e-4, `std ${std}`);
  assert.notEqual(a[a.length - 1], 0, 'the last value of an odd length is drawn');
  // Tails like a normal's: about 4.6% beyond two standard deviations.
  const beyond = a.filter((x) => Math.abs(x) > 0.04).length / a.length;
  assert.ok(beyond > 0.04 && beyond < 0.052, `${beyond} beyond 2σ`);
});

test('skipNormals leaves the stream where fillNormal would (odd and even lengths)', () => {
  for (const n of [0, 1, 2, 7, 1000, 4097]) {
    const filled = new Rng(11);
    filled.fillNormal(new Float32Array(n), 1);
    const skipped = new Rng(11);
    skipped.skipNormals(n);
    assert.deepEqual(skipped.fillNormal(new Float32Array(9), 1), filled.fillNormal(new Float32Array(9), 1), `after ${n} values`);
  }
});
