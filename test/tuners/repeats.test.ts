import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTuner } from '../../src/tuners';
import { HyperbandTuner } from '../../src/tuners/hyperband';
import { RandomTuner } from '../../src/tuners/random';
import { rankByMean, repeatTag, summariseRepeats, withRepeats } from '../../src/tuners/repeats';
import { mean, std } from '../../src/tuners/stats';
import type { TrialRecord, Tuner } from '../../src/tuners/types';
import { curve, quadratic, space2d } from './fixtures';
import { jitter, simulate } from './sim';

/** Objective with per-run noise that depends on the trial number (a different seed per repeat). */
const noisy = (p: Record<string, unknown>, _e: number, n: number): number => quadratic(p as never) + ((n * 7919) % 13) / 100;

test('repeats: k trials per configuration, inner tuner sees the mean once all k finished', () => {
  const views: TrialRecord[][] = [];
  const inner = new RandomTuner(space2d, { seed: 2, maxTrials: 5 });
  const spy: Tuner = { name: 'spy', suggest: (h) => (views.push(structuredClone(h)), inner.suggest(h)) };
  const trials = simulate(withRepeats(spy, 3), { workers: 2, objective: noisy, jitter: jitter(3) });
  assert.equal(trials.length, 15);
  const sums = summariseRepeats(trials, 3);
  assert.equal(sums.length, 5);
  for (const s of sums) {
    const runs = trials.filter((t) => repeatTag(t)?.config === s.config);
    assert.deepEqual(runs.map((t) => repeatTag(t)!.repeat).sort(), [0, 1, 2]);
    assert.equal(new Set(runs.map((t) => JSON.stringify(t.params))).size, 1, 'same configuration');
    const vals = runs.sort((a, b) => repeatTag(a)!.repeat - repeatTag(b)!.repeat).map((t) => t.value!);
    assert.deepEqual(s.values, vals);
    assert.equal(s.mean, mean(vals));
    assert.equal(s.std, std(vals));
  }
  // What the inner tuner saw: running until all repeats finished, then the mean.
  const last = views[views.length - 1];
  for (const v of last) {
    const s = sums.find((x) => x.config === v.number)!;
    if (v.state === 'complete') assert.equal(v.value, s.mean);
  }
  assert.ok(views.some((h) => h.some((v) => v.state === 'running')), 'partially finished configurations are pending');
  const ranked = rankByMean(sums, 'minimize');
  for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].mean <= ranked[i].mean);
});

test('repeats with Hyperband: promotions continue the same repeat, counts scale by k', () => {
  const tuner = withRepeats(new HyperbandTuner(space2d, { maxEpochs: 9, factor: 3, iterations: 1, seed: 1, direction: 'minimize' }), 2);
  const trials = simulate(tuner, { workers: 3, objective: curve, jitter: jitter(8) });
  // Twice the runs and epochs of the same search without repeats.
  const single = simulate(new HyperbandTuner(space2d, { maxEpochs: 9, factor: 3, iterations: 1, seed: 1, direction: 'minimize' }), { workers: 1, objective: curve });
  assert.equal(trials.length, single.length * 2);
  for (const t of trials) {
    if (t.resumeFrom === undefined) continue;
    const from = trials[t.resumeFrom];
    assert.equal(repeatTag(from)!.repeat, repeatTag(t)!.repeat);
    assert.deepEqual(from.params, t.params);
  }
  assert.equal(trials.reduce((a, t) => a + t.trainedEpochs, 0), single.reduce((a, t) => a + t.trainedEpochs, 0) * 2);
});

test('createTuner builds every tuner type from its study spec', () => {
  const o = { seed: 1, direction: 'minimize' as const, epochs: 3, maxTrials: 6 };
  const specs = [
    { type: 'random' as const },
    { type: 'grid' as const },
    { type: 'hyperband' as const, max_epochs: 9, factor: 3, hyperband_iterations: 1 },
    { type: 'bayesian' as const, initial_points: 3, acquisition: 'ei' as const, beta: 2.6 },
    { type: 'tpe' as const, initial_points: 3, candidates: 24 },
    { type: 'asha' as const, min_epochs: 1, max_epochs: 9, factor: 3 },
  ];
  for (const spec of specs) {
    const t = createTuner(spec, space2d, { ...o, repeats: 2 });
    const trials = simulate(t, { workers: 2, objective: curve, epochs: 3, maxTrials: 12, jitter: jitter(1) });
    assert.ok(trials.length >= 6, `${spec.type}: ${trials.length} trials`);
    assert.ok(trials.every((x) => repeatTag(x) !== undefined), `${spec.type}: repeat tags`);
  }
});
