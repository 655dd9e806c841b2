/**
 * Which checkpoints a shared study keeps for promotions: driven by the real Hyperband and ASHA
 * tuners over a simulated study (every suggestion run to completion, in order), checking after
 * every step that no checkpoint a later promotion continues was ever declared obsolete, and
 * that the obsolete ones go as early as the rules say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudySpec } from '../../src/core/study';
import type { StoredTrial } from '../../src/store/types';
import { checkpointPolicy } from '../../src/runner/promotions';
import { toHistory, type TrialSource } from '../../src/runner/study-runner';
import { createTuner } from '../../src/tuners';
import { hyperbandTag } from '../../src/tuners/hyperband';

function studyWith(tuner: object, repeats = 1) {
  return StudySpec.parse({
    name: 's',
    data: { file: 'd.tsv', textColumn: 'text', labelColumn: 'label' },
    tokenizer: { vocab: 'v.txt' },
    searchSpace: { lr: { type: 'float', low: 0, high: 1 } },
    tuner,
    training: { epochs: 9 },
    budget: { maxTrials: 30, repeats },
  });
}

/** Runs a study with a fake objective; returns every step's trials. */
function simulate(source: TrialSource, maxRuns: number): StoredTrial[][] {
  const trials: StoredTrial[] = [];
  const steps: StoredTrial[][] = [];
  for (let n = 0; n < maxRuns; n++) {
    const s = source.suggest(toHistory(trials, 0, 'val_loss'), trials);
    if (s.kind !== 'trial') break;
    const lr = Number(s.params.lr);
    const epochs = s.epochs ?? 9;
    trials.push({
      number: n,
      params: s.params,
      state: 'complete',
      value: (lr - 0.3) ** 2 + 1 / epochs,
      curve: Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, train_loss: 1, val_loss: (lr - 0.3) ** 2 + 1 / (i + 1), val_accuracy: 0.5 })),
      epochs,
      attempts: 1,
      ...(s.tag ? { tag: s.tag } : {}),
      ...(s.resumeFrom !== undefined ? { resumeFrom: s.resumeFrom } : {}),
    });
    steps.push(structuredClone(trials));
  }
  return steps;
}

function check(tunerSpec: object, repeats: number, maxRuns: number): { steps: StoredTrial[][]; dropped: Map<number, number> } {
  const study = studyWith(tunerSpec, repeats);
  const policy = checkpointPolicy(study)!;
  const source = createTuner(study.tuner, [{ type: 'float', name: 'lr', low: 0, high: 1 }], { seed: 1, maxTrials: 30, direction: 'minimize', epochs: 9, repeats });
  const steps = simulate(source, maxRuns);
  const all = steps[steps.length - 1]!;
  const dropped = new Map<number, number>();
  steps.forEach((trials, i) => {
    for (const n of policy.obsolete(trials, false)) if (!dropped.has(n)) dropped.set(n, i);
  });
  for (const t of all) {
    if (t.resumeFrom === undefined) continue;
    const when = dropped.get(t.resumeFrom);
    assert.ok(when === undefined || when >= t.number, `trial ${t.resumeFrom} dropped at step ${when}, but trial ${t.number} continues it`);
    assert.ok(policy.promotable(all.find((x) => x.number === t.resumeFrom)!), `the source of a promotion was uploaded (trial ${t.resumeFrom})`);
  }
  return { steps, dropped };
}

test('Hyperband: nothing a later promotion continues is ever dropped; every promotable checkpoint goes by the end of its bracket', () => {
  const { steps, dropped } = check({ type: 'hyperband', max_epochs: 9, factor: 3 }, 1, 100);
  const all = steps[steps.length - 1]!;
  assert.equal(all.length, 22);
  const study = studyWith({ type: 'hyperband', max_epochs: 9, factor: 3 });
  const policy = checkpointPolicy(study)!;
  const promotable = all.filter((t) => policy.promotable(t)).map((t) => t.number);
  assert.deepEqual(promotable, all.filter((t) => t.epochs! < 9).map((t) => t.number), 'only runs below max_epochs are uploaded');
  assert.deepEqual([...dropped.keys()].filter((n) => promotable.includes(n)).sort((a, b) => a - b), promotable, 'all of them dropped before the study ends');
  // Round 0 of the widest bracket (trials 0-8) goes once round 1 (3 trials) exists, not before.
  const round1Complete = all.filter((t) => hyperbandTag(t)?.bracket === 2 && hyperbandTag(t)?.round === 1).map((t) => t.number);
  const lastOfRound1 = Math.max(...round1Complete);
  for (let n = 0; n < 9; n++) {
    if (all.some((t) => t.resumeFrom === n)) continue; // promoted: goes when its promotion is over
    assert.equal(dropped.get(n), lastOfRound1, `unpromoted trial ${n} dropped when round 1 was complete`);
  }
  assert.deepEqual(policy.obsolete(all, true).sort((a, b) => a - b), all.map((t) => t.number), 'a finished Hyperband study needs none');
});

test('Hyperband with repeats: the tuner tags under `inner`, each repeat continues its own repeat', () => {
  const { steps } = check({ type: 'hyperband', max_epochs: 3, factor: 3 }, 2, 100);
  assert.ok(steps[steps.length - 1]!.some((t) => t.resumeFrom !== undefined));
});

test('ASHA: a checkpoint goes once its promotion is over; the unpromoted ones stay while the study may grow', () => {
  const { steps, dropped } = check({ type: 'asha', min_epochs: 1, max_epochs: 9, factor: 3 }, 1, 30);
  const all = steps[steps.length - 1]!;
  const consumed = new Set(all.filter((t) => t.resumeFrom !== undefined).map((t) => t.resumeFrom!));
  assert.ok(consumed.size >= 3);
  assert.deepEqual([...dropped.keys()].sort((a, b) => a - b), [...consumed].sort((a, b) => a - b));
  const policy = checkpointPolicy(studyWith({ type: 'asha', min_epochs: 1, max_epochs: 9, factor: 3 }))!;
  assert.deepEqual(policy.obsolete(all, true).sort((a, b) => a - b), [...consumed].sort((a, b) => a - b), 'even at the end');
});

test('tuners that never promote keep no checkpoint', () => {
  for (const type of ['random', 'bayesian', 'tpe']) assert.equal(checkpointPolicy(studyWith({ type })), undefined);
});
