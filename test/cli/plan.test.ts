/** `trialbook plan` as a real child process: flags, study files, JSON shape, clear errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, tempDir, writeStudyFile } from '../helpers';
import { planHyperband } from '../../src/tuners/hyperband';

function study(dir: string, tuner: Record<string, unknown>, budget: Record<string, unknown> = {}): string {
  return writeStudyFile(dir, { name: 'p', searchSpace: { dropout_rate: { type: 'float', low: 0, high: 0.5 } }, tuner, training: { epochs: 4 }, budget });
}

test('plan --tuner hyperband --json prints the exact plan (R=27, η=3: 49 / 69 / 357)', () => {
  const r = runCli(['plan', '--tuner', 'hyperband', '--max-epochs', '27', '--factor', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ['brackets', 'configs', 'runs', 'epochs']);
  assert.deepEqual(j.brackets[0], { s: 3, rounds: [{ n: 27, epochs: 1 }, { n: 9, epochs: 3 }, { n: 3, epochs: 9 }, { n: 1, epochs: 27 }] });
  assert.deepEqual([j.configs, j.runs, j.epochs], [49, 69, 357]);
});

test('plan text output and iterations', () => {
  const r = runCli(['plan', '--tuner', 'hyperband', '--max-epochs', '81', '--factor', '3', '--iterations', '2']);
  assert.equal(r.code, 0, r.stderr);
  const p = planHyperband(81, 3, 2);
  assert.match(r.stdout, /bracket s=4: 81×1 → 27×3 → 9×9 → 3×27 → 1×81/);
  assert.match(r.stdout, new RegExp(`total over 2 iterations: ${p.configs} configurations, ${p.runs} runs, ${p.epochs} epochs`));
});

test('plan STUDY reads the tuner from the study file; repeats multiply runs and epochs', (t) => {
  const dir = tempDir(t);
  const hb = runCli(['plan', study(dir, { type: 'hyperband', max_epochs: 9, factor: 3 }, { repeats: 3 }), '--json']);
  assert.equal(hb.code, 0, hb.stderr);
  const p = planHyperband(9, 3, 1);
  const j = JSON.parse(hb.stdout);
  assert.deepEqual([j.configs, j.runs, j.epochs, j.repeats], [p.configs, p.runs * 3, p.epochs * 3, 3]);
  const tpe = runCli(['plan', study(dir, { type: 'tpe' }, { maxTrials: 30 })]);
  assert.equal(tpe.code, 0, tpe.stderr);
  assert.match(tpe.stdout, /tpe .*: 30 trials of 4 epochs = 120 epochs/);
  const asha = JSON.parse(runCli(['plan', study(dir, { type: 'asha', max_epochs: 27 }), '--json']).stdout);
  assert.deepEqual(asha.rungs, [1, 3, 9, 27]);
});

test('plan errors name the problem', (t) => {
  const none = runCli(['plan']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give a study file, or --tuner/);
  const bad = runCli(['plan', '--tuner', 'hyperband', '--factor', '1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--factor must be a whole number ≥ 2/);
  const wrong = runCli(['plan', '--tuner', 'tpe', '--max-epochs', '9']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--max-epochs does not apply to --tuner tpe/);
  const dir = tempDir(t);
  const file = study(dir, { type: 'hyperband', max_epochs: 0 });
  const inv = runCli(['plan', file]);
  assert.equal(inv.code, 2);
  assert.match(inv.stderr, /tuner\.max_epochs/);
  assert.doesNotMatch(inv.stderr, /at .*\.js:\d+/, 'no stack trace');
  const missing = runCli(['plan', join(dir, 'nope.trialbook.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.trialbook\.json/);
});
