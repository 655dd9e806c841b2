import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng';
import { BayesianTuner } from '../../src/tuners/bayesian';
import { GaussianProcess } from '../../src/tuners/gp';
import { RandomTuner } from '../../src/tuners/random';
import { configKey, encode } from '../../src/tuners/space';
import { median } from '../../src/tuners/stats';
import { TpeTuner } from '../../src/tuners/tpe';
import type { SearchSpace, TrialRecord, Tuner } from '../../src/tuners/types';
import { quadratic, space2d } from './fixtures';
import { jitter, simulate } from './sim';

function bestAfter(tuner: Tuner, budget: number, workers = 1): number {
  const trials = simulate(tuner, { workers, objective: (p) => quadratic(p), maxTrials: budget, jitter: workers > 1 ? jitter(3) : undefined });
  return Math.min(...trials.map((t) => t.value!));
}

test('GP: log marginal likelihood gradient matches finite differences', () => {
  const rng = new Rng(3);
  const X = Array.from({ length: 12 }, () => [rng.next(), rng.next(), rng.next()]);
  const y = X.map((x) => Math.sin(3 * x[0]) + x[1] * x[1] - 0.5 * x[2]);
  const gp = new GaussianProcess(3);
  gp.setData(X, y);
  const obj = (gp as unknown as { objective(th: Float64Array): { value: number; grad: Float64Array } }).objective.bind(gp);
  const th = Float64Array.from([Math.log(0.3), Math.log(0.7), Math.log(1.2), 0.2, Math.log(0.01)]);
  const g = obj(th).grad;
  for (let k = 0; k < th.length; k++) {
    const e = 1e-5;
    const a = Float64Array.from(th);
    const b = Float64Array.from(th);
    a[k] += e;
    b[k] -= e;
    const fd = (obj(a).value - obj(b).value) / (2 * e);
    assert.ok(Math.abs(fd - g[k]) < 1e-4 * Math.max(1, Math.abs(fd)), `θ${k}: analytic ${g[k]} vs numeric ${fd}`);
  }
  // Fitting increases the marginal likelihood and the fit interpolates the data.
  gp.optimise(rng, 1, 40);
  const p = gp.predict(X[0]);
  assert.ok(Math.abs(p.mean - y[0]) < 0.1, `mean ${p.mean} vs ${y[0]}`);
});

test('GP-BO finds the optimum region of a 2-D quadratic better than random search (median over seeds)', () => {
  const seeds = [0, 1, 2, 3, 4];
  const bo = seeds.map((s) => bestAfter(new BayesianTuner(space2d, { seed: s, direction: 'minimize', initialPoints: 5, acquisition: 'ei', beta: 2.6, candidates: 400 }), 20));
  const rnd = seeds.map((s) => bestAfter(new RandomTuner(space2d, { seed: s }), 20));
  assert.ok(median(bo) < median(rnd) / 5, `GP median ${median(bo)} vs random ${median(rnd)}`);
  assert.ok(median(bo) < 1e-3, `GP median best ${median(bo)}`);
  const ucb = seeds.slice(0, 3).map((s) => bestAfter(new BayesianTuner(space2d, { seed: s, direction: 'minimize', initialPoints: 5, acquisition: 'ucb', beta: 2.6, candidates: 400 }), 20));
  assert.ok(median(ucb) < median(rnd), `UCB median ${median(ucb)} vs random ${median(rnd)}`);
});

test('TPE finds the optimum region better than random search (median over seeds)', () => {
  const seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const tpe = seeds.map((s) => bestAfter(new TpeTuner(space2d, { seed: s, direction: 'minimize', initialPoints: 10, candidates: 24, multivariate: false }), 60));
  const rnd = seeds.map((s) => bestAfter(new RandomTuner(space2d, { seed: s }), 60));
  assert.ok(median(tpe) < median(rnd) / 2, `univariate TPE median ${median(tpe)} vs random ${median(rnd)}`);
  const mv = seeds.map((s) => bestAfter(new TpeTuner(space2d, { seed: s, direction: 'minimize', initialPoints: 10, candidates: 24, multivariate: true }), 60));
  assert.ok(median(mv) < median(rnd), `multivariate TPE median ${median(mv)} vs random ${median(rnd)}`);
});

test('pending trials: no duplicates with parallel workers, and the next point moves away from a pending one', () => {
  const grid: SearchSpace = [
    { type: 'int', name: 'x', low: 0, high: 7 },
    { type: 'int', name: 'y', low: 0, high: 7 },
  ];
  const f = (p: Record<string, unknown>): number => (Number(p.x) - 5) ** 2 + (Number(p.y) - 2) ** 2;
  for (const tuner of [
    new BayesianTuner(grid, { seed: 1, direction: 'minimize', initialPoints: 4, acquisition: 'ei', beta: 2.6, candidates: 200 }),
    new TpeTuner(grid, { seed: 1, direction: 'minimize', initialPoints: 4, candidates: 24 }),
  ]) {
    const trials = simulate(tuner, { workers: 4, objective: f, maxTrials: 30, jitter: jitter(7) });
    assert.equal(new Set(trials.map((t) => configKey(grid, t.params))).size, trials.length, `${tuner.name}: duplicates`);
  }
  // Continuous space: the suggestion made while its twin is pending lands elsewhere.
  const bo = new BayesianTuner(space2d, { seed: 5, direction: 'minimize', initialPoints: 5, acquisition: 'ei', beta: 2.6, candidates: 400 });
  const done = simulate(bo, { workers: 1, objective: (p) => quadratic(p), maxTrials: 12 });
  const h: TrialRecord[] = done.map((t) => ({ number: t.number, params: t.params, state: 'complete', value: t.value }));
  const s1 = bo.suggest(h);
  assert.equal(s1.kind, 'trial');
  if (s1.kind !== 'trial') return;
  const s2 = bo.suggest([...h, { number: h.length, params: s1.params, state: 'running' }]);
  if (s2.kind !== 'trial') return assert.fail('no suggestion');
  const [a, b] = [encode(space2d, s1.params), encode(space2d, s2.params)];
  const dist = Math.hypot(a[0] - b[0], a[1] - b[1]);
  assert.ok(dist > 0.01, `pending point ${JSON.stringify(s1.params)}, next ${JSON.stringify(s2.params)}`);
});

test('GP and TPE are rebuildable: same history and seed, same suggestion', () => {
  const bo = (): BayesianTuner => new BayesianTuner(space2d, { seed: 8, direction: 'minimize', initialPoints: 4, acquisition: 'ei', beta: 2.6, candidates: 300 });
  const tpe = (): TpeTuner => new TpeTuner(space2d, { seed: 8, direction: 'minimize', initialPoints: 4, candidates: 24 });
  for (const make of [bo, tpe]) {
    const trials = simulate(make(), { workers: 2, objective: (p) => quadratic(p), maxTrials: 14, jitter: jitter(1) });
    const h: TrialRecord[] = trials.map((t, i) => ({ number: t.number, params: t.params, state: i === trials.length - 1 ? 'running' : 'complete', value: t.value }));
    assert.deepEqual(make().suggest(h), make().suggest(h));
  }
});

test('maximisation is handled (the tuner climbs, not descends)', () => {
  const seeds = [0, 1, 2];
  for (const make of [
    (s: number) => new TpeTuner(space2d, { seed: s, direction: 'maximize', initialPoints: 8, candidates: 24 }),
    (s: number) => new BayesianTuner(space2d, { seed: s, direction: 'maximize', initialPoints: 5, acquisition: 'ei', beta: 2.6, candidates: 300 }),
  ]) {
    const best = seeds.map((s) => Math.max(...simulate(make(s), { workers: 1, objective: (p) => -quadratic(p), maxTrials: 25 }).map((t) => t.value!)));
    const rnd = seeds.map((s) => Math.max(...simulate(new RandomTuner(space2d, { seed: s }), { workers: 1, objective: (p) => -quadratic(p), maxTrials: 25 }).map((t) => t.value!)));
    assert.ok(median(best) > median(rnd), `${make(0).name}: ${median(best)} vs random ${median(rnd)}`);
  }
});

test('GP-BO in a small discrete space tries each configuration once, then is done', () => {
  const small: SearchSpace = [
    { type: 'choice', name: 'a', values: ['x', 'y', 'z'] },
    { type: 'bool', name: 'b' },
  ];
  const bo = new BayesianTuner(small, { seed: 2, direction: 'minimize', initialPoints: 2, acquisition: 'ei', beta: 2.6, candidates: 50 });
  const trials = simulate(bo, { workers: 2, objective: (p) => (p.a === 'y' ? 0 : 1) + (p.b ? 0.5 : 0), maxTrials: 50, jitter: jitter(1) });
  assert.equal(trials.length, 6);
  assert.equal(new Set(trials.map((t) => configKey(small, t.params))).size, 6);
});
