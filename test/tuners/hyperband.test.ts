import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HyperbandTuner, hyperbandTag, planHyperband, sMax } from '../../src/tuners/hyperband';
import { configKey } from '../../src/tuners/space';
import { curve, space2d } from './fixtures';
import { jitter, simulate, type SimTrial } from './sim';

/**
 * Independent brute-force Hyperband: s_max by trying powers, n and r by searching for the
 * smallest integers that satisfy the inequalities, and successive halving actually run on a
 * list of configurations with random losses, counting runs and epochs trained.
 */
function bruteForce(R: number, eta: number, iterations: number): { configs: number; runs: number; epochs: number; shape: Array<[number, Array<[number, number]>]> } {
  let smax = 0;
  while (eta ** (smax + 1) <= R) smax++;
  let configs = 0;
  let runs = 0;
  let epochs = 0;
  const shape: Array<[number, Array<[number, number]>]> = [];
  let seed = 1;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let it = 0; it < iterations; it++) {
    for (let s = smax; s >= 0; s--) {
      // n: smallest integer ≥ (smax+1)·η^s/(s+1).
      let n = 0;
      while (n * (s + 1) < (smax + 1) * eta ** s) n++;
      let pool = Array.from({ length: n }, () => ({ trained: 0, loss: 0 }));
      configs += n;
      const rounds: Array<[number, number]> = [];
      for (let i = 0; i <= s; i++) {
        // keep: largest k with k·η^i ≤ n;  r: smallest r with r·η^(s−i) ≥ R.
        let k = 0;
        while ((k + 1) * eta ** i <= n) k++;
        let r = 0;
        while (r * eta ** (s - i) < R) r++;
        pool = pool.sort((a, b) => a.loss - b.loss).slice(0, k);
        for (const c of pool) {
          epochs += r - c.trained;
          c.trained = r;
          c.loss = rand();
          runs++;
        }
        rounds.push([k, r]);
      }
      if (it === 0) shape.push([s, rounds]);
    }
  }
  return { configs, runs, epochs, shape };
}

test('planHyperband: the issue example R=27, η=3 → 49 configurations, 69 runs, 357 epochs', () => {
  const p = planHyperband(27, 3, 1);
  assert.deepEqual([p.configs, p.runs, p.epochs], [49, 69, 357]);
  assert.deepEqual(p.brackets[0], { s: 3, rounds: [{ n: 27, epochs: 1 }, { n: 9, epochs: 3 }, { n: 3, epochs: 9 }, { n: 1, epochs: 27 }] });
});

test('planHyperband matches a brute-force simulation for many (R, η, iterations)', () => {
  const cases: Array<[number, number, number]> = [[1, 3, 1], [2, 2, 1], [9, 3, 1], [10, 2, 1], [30, 3, 1], [81, 3, 2], [100, 4, 1], [125, 5, 1], [216, 6, 1], [243, 3, 1], [1000, 10, 1], [50, 7, 3]];
  for (const [R, eta, it] of cases) {
    const p = planHyperband(R, eta, it);
    const b = bruteForce(R, eta, it);
    assert.deepEqual([p.configs, p.runs, p.epochs], [b.configs, b.runs, b.epochs], `R=${R} η=${eta} it=${it}`);
    assert.deepEqual(p.brackets.map((x) => [x.s, x.rounds.map((r) => [r.n, r.epochs])]), b.shape, `shape R=${R} η=${eta}`);
  }
});

test('s_max has no floating-point error where log() does', () => {
  // Math.log(125)/Math.log(5) = 3.0000000000000004 and Math.log(1000)/Math.log(10) = 2.9999999999999996.
  assert.equal(sMax(125, 5), 3);
  assert.equal(sMax(1000, 10), 3);
  assert.equal(sMax(243, 3), 5);
  assert.equal(sMax(242, 3), 4);
});

function checkRun(trials: SimTrial[], R: number, eta: number, iterations: number): void {
  const plan = planHyperband(R, eta, iterations);
  assert.equal(trials.length, plan.runs);
  assert.equal(trials.reduce((a, t) => a + t.trainedEpochs, 0), plan.epochs, 'epochs trained with checkpoint resume');
  assert.equal(new Set(trials.filter((t) => hyperbandTag(t)!.round === 0).map((t) => configKey(space2d, t.params))).size, plan.configs, 'distinct configurations');
  for (let it = 0; it < iterations; it++) {
    for (const b of plan.brackets) {
      b.rounds.forEach((r, i) => {
        const cell = trials.filter((t) => {
          const h = hyperbandTag(t)!;
          return h.iteration === it && h.bracket === b.s && h.round === i;
        });
        assert.equal(cell.length, r.n, `iteration ${it} bracket ${b.s} round ${i}: n`);
        for (const t of cell) assert.equal(t.epochs, r.epochs, `bracket ${b.s} round ${i}: epochs`);
        if (i === 0) return;
        // The promoted are exactly the best r.n of the previous round, each resuming its own run.
        const prev = trials.filter((t) => {
          const h = hyperbandTag(t)!;
          return h.iteration === it && h.bracket === b.s && h.round === i - 1;
        });
        const best = [...prev].sort((a, c) => a.value! - c.value! || a.number - c.number).slice(0, r.n).map((t) => t.number).sort((a, c) => a - c);
        assert.deepEqual(cell.map((t) => t.resumeFrom!).sort((a, c) => a - c), best, `bracket ${b.s} round ${i}: promoted the best`);
        for (const t of cell) {
          const from = trials[t.resumeFrom!];
          assert.equal(configKey(space2d, from.params), configKey(space2d, t.params));
          assert.ok(from.endsAt <= t.startedAt, 'promotion starts after the run it continues finished');
        }
      });
    }
  }
}

test('a whole Hyperband run through suggest(), one worker', () => {
  const tuner = new HyperbandTuner(space2d, { maxEpochs: 27, factor: 3, iterations: 1, seed: 7, direction: 'minimize' });
  const trials = simulate(tuner, { workers: 1, objective: curve });
  checkRun(trials, 27, 3, 1);
  // One worker: brackets run in order s = 3, 2, 1, 0.
  const order = trials.map((t) => hyperbandTag(t)!.bracket);
  assert.deepEqual(order, [...order].sort((a, b) => b - a));
});

test('a whole Hyperband run with 3 asynchronous workers (and 2 iterations) keeps the algorithm', () => {
  const tuner = new HyperbandTuner(space2d, { maxEpochs: 9, factor: 3, iterations: 2, seed: 3, direction: 'minimize' });
  const trials = simulate(tuner, { workers: 3, objective: curve, jitter: jitter(5) });
  checkRun(trials, 9, 3, 2);
  const tuner27 = new HyperbandTuner(space2d, { maxEpochs: 27, factor: 3, iterations: 1, seed: 11, direction: 'minimize' });
  const t27 = simulate(tuner27, { workers: 3, objective: curve, jitter: jitter(9) });
  checkRun(t27, 27, 3, 1);
  // Workers stayed busy: the run took less time than one worker would.
  const makespan = Math.max(...t27.map((t) => t.endsAt));
  assert.ok(makespan < planHyperband(27, 3, 1).epochs * 0.75, `makespan ${makespan}`);
});

test('maximisation promotes the highest values', () => {
  const tuner = new HyperbandTuner(space2d, { maxEpochs: 9, factor: 3, iterations: 1, seed: 2, direction: 'maximize' });
  const trials = simulate(tuner, { workers: 2, objective: (p, e) => -curve(p, e), jitter: jitter(1) });
  const r1 = trials.filter((t) => hyperbandTag(t)!.bracket === 2 && hyperbandTag(t)!.round === 1).map((t) => t.resumeFrom!);
  const r0 = trials.filter((t) => hyperbandTag(t)!.bracket === 2 && hyperbandTag(t)!.round === 0);
  const best = [...r0].sort((a, b) => b.value! - a.value!).slice(0, r1.length).map((t) => t.number).sort((a, b) => a - b);
  assert.deepEqual([...r1].sort((a, b) => a - b), best);
});

test('rebuilt from the history, Hyperband suggests the same next run (resume)', () => {
  const seen: Array<{ h: Parameters<HyperbandTuner['suggest']>[0]; s: unknown }> = [];
  const tuner = new HyperbandTuner(space2d, { maxEpochs: 27, factor: 3, iterations: 1, seed: 21, direction: 'minimize' });
  simulate(tuner, { workers: 3, objective: curve, jitter: jitter(2), onSuggest: (h, s) => seen.push({ h: structuredClone(h), s }) });
  for (const k of [0, 5, 27, 30, 41, 55, seen.length - 1]) {
    const fresh = new HyperbandTuner(space2d, { maxEpochs: 27, factor: 3, iterations: 1, seed: 21, direction: 'minimize' });
    assert.deepEqual(fresh.suggest(seen[k].h), seen[k].s, `suggestion ${k}`);
  }
  // A failed run is not promoted; the round still completes.
  const h = seen[27].h.map((t) => (t.number === 0 ? { ...t, state: 'failed' as const, value: undefined } : t));
  const s = new HyperbandTuner(space2d, { maxEpochs: 27, factor: 3, iterations: 1, seed: 21, direction: 'minimize' }).suggest(h);
  if (s.kind === 'trial') assert.notEqual(s.resumeFrom, 0);
});
