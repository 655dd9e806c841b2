import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AshaTuner, ashaRungs, ashaTag } from '../../src/tuners/asha';
import { configKey } from '../../src/tuners/space';
import type { Suggestion, TrialRecord } from '../../src/tuners/types';
import { curve, space2d } from './fixtures';
import { jitter, simulate } from './sim';

test('rungs: min·η^k up to max, max added when not a power', () => {
  assert.deepEqual(ashaRungs(1, 27, 3), [1, 3, 9, 27]);
  assert.deepEqual(ashaRungs(2, 20, 2), [2, 4, 8, 16, 20]);
  assert.deepEqual(ashaRungs(5, 5, 3), [5]);
});

for (const sampler of ['random', 'tpe'] as const) {
  test(`ASHA (${sampler}) with 4 asynchronous workers: every promotion is a top-1/η run not yet promoted; nobody waits`, () => {
    const seen: Array<{ h: TrialRecord[]; s: Suggestion }> = [];
    const tuner = new AshaTuner(space2d, { minEpochs: 1, maxEpochs: 27, factor: 3, seed: 5, direction: 'minimize', sampler });
    const trials = simulate(tuner, { workers: 4, objective: curve, maxTrials: 120, jitter: jitter(4), onSuggest: (h, s) => seen.push({ h: structuredClone(h), s }) });
    assert.equal(trials.length, 120);
    assert.ok(seen.every((x) => x.s.kind === 'trial'), 'ASHA never makes a worker wait');
    const rungs = [1, 3, 9, 27];
    let promotions = 0;
    const promotedTo = new Set<string>();
    for (const { h, s } of seen) {
      if (s.kind !== 'trial') continue;
      const tag = ashaTag(s)!;
      assert.equal(s.epochs, rungs[tag.rung]);
      if (tag.rung === 0) {
        assert.equal(s.resumeFrom, undefined);
        continue;
      }
      promotions++;
      const key = `${tag.rung}/${tag.config}`;
      assert.ok(!promotedTo.has(key), `config ${tag.config} promoted twice to rung ${tag.rung}`);
      promotedTo.add(key);
      const from = h.find((t) => t.number === s.resumeFrom)!;
      assert.equal(ashaTag(from)!.rung, tag.rung - 1);
      assert.equal(ashaTag(from)!.config, tag.config);
      assert.equal(from.state, 'complete', 'promotes only finished runs');
      const finished = h.filter((t) => ashaTag(t)?.rung === tag.rung - 1 && t.state !== 'running');
      const top = [...finished].sort((a, b) => a.value! - b.value! || a.number - b.number).slice(0, Math.floor(finished.length / 3));
      assert.ok(top.some((t) => t.number === from.number), `promoted trial ${from.number} is in the top ⌊${finished.length}/3⌋ of rung ${tag.rung - 1}`);
    }
    assert.ok(promotions >= 20, `promotions: ${promotions}`);
    assert.ok(trials.some((t) => ashaTag(t)!.rung === 3), 'some configuration reached max_epochs');
    // Promotions resume: a rung-k run trains only the extra epochs.
    for (const t of trials) if (ashaTag(t)!.rung > 0) assert.equal(t.trainedEpochs, rungs[ashaTag(t)!.rung] - rungs[ashaTag(t)!.rung - 1]);
    assert.equal(new Set(trials.filter((t) => ashaTag(t)!.rung === 0).map((t) => configKey(space2d, t.params))).size, trials.filter((t) => ashaTag(t)!.rung === 0).length);
    // Rebuildable.
    const k = Math.floor(seen.length / 2);
    const fresh = new AshaTuner(space2d, { minEpochs: 1, maxEpochs: 27, factor: 3, seed: 5, direction: 'minimize', sampler });
    assert.deepEqual(fresh.suggest(seen[k].h), seen[k].s);
  });
}

test('ASHA with maxConfigs finishes its promotions, then is done', () => {
  const tuner = new AshaTuner(space2d, { minEpochs: 1, maxEpochs: 9, factor: 3, seed: 1, direction: 'minimize', maxConfigs: 9 });
  const trials = simulate(tuner, { workers: 3, objective: curve, jitter: jitter(2) });
  assert.equal(trials.filter((t) => ashaTag(t)!.rung === 0).length, 9);
  assert.ok(trials.filter((t) => ashaTag(t)!.rung === 1).length >= 3);
  assert.ok(trials.some((t) => ashaTag(t)!.rung === 2));
});
