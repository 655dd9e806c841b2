import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrialView } from '../../src/protocol/messages';
import { matchesFilter, parseFilter } from '../../src/webview/filter';
import { groupOptions, groupTrials } from '../../src/webview/groups';
import { axisLabel, logTicks, objectiveColor, paramAxis, varyingParams } from '../../src/webview/series';
import { welchTTest } from '../../src/tuners/stats';

const trial = (number: number, params: TrialView['params'], valLoss: number, extra: Partial<TrialView> = {}): TrialView => ({ number, state: 'complete', params, value: valLoss, valLoss, valAccuracy: 1 - valLoss, ...extra });

test('filter by range: learning_rate>5e-4, state=, #<, words; an unknown column is reported', () => {
  const rows = [trial(0, { learning_rate: 3e-4, batch_size: 32 }, 0.4), trial(1, { learning_rate: 8e-4, batch_size: 64 }, 0.3), trial(2, { learning_rate: 1e-3, batch_size: 32 }, 0.6, { state: 'failed' })];
  const run = (text: string) => {
    const f = parseFilter(text, ['learning_rate', 'batch_size'], 'val_loss');
    return { kept: rows.filter((t) => matchesFilter(t, f, 'val_loss')).map((t) => t.number), unknown: f.unknown };
  };
  assert.deepEqual(run('learning_rate>5e-4').kept, [1, 2]);
  assert.deepEqual(run('learning_rate>5e-4 state=complete').kept, [1]);
  assert.deepEqual(run('val_loss<=0.4').kept, [0, 1]);
  assert.deepEqual(run('val_accuracy>0.65').kept, [1]);
  assert.deepEqual(run('#<2 batch_size=32').kept, [0]);
  assert.deepEqual(run('failed').kept, [2]);
  assert.deepEqual(run('learnig_rate>1').unknown, ['learnig_rate']);
});

test('axes follow the search space: log10 for a log range, categories in the space order, ranges from the space', () => {
  const rows = [trial(0, { learning_rate: 1e-4, batch_size: 64, freeze_body: true }, 0.4), trial(1, { learning_rate: 1e-3, batch_size: 16, freeze_body: false }, 0.3)];
  const lr = paramAxis('learning_rate', rows, { type: 'float', low: 1e-5, high: 1e-2, log: true });
  assert.deepEqual([lr.log, lr.values, lr.min, lr.max], [true, [-4, -3], -5, -2]);
  assert.equal(axisLabel(lr, -3), '1e-3');
  const bs = paramAxis('batch_size', rows, { type: 'choice', values: [16, 32, 64] });
  assert.deepEqual([bs.categories, bs.values], [['16', '32', '64'], [2, 0]]);
  assert.equal(axisLabel(bs, 1), '32');
  assert.deepEqual(varyingParams(rows, { learning_rate: { type: 'float' }, batch_size: { type: 'choice' } }), ['learning_rate', 'batch_size', 'freeze_body']);
  // The best value is the brightest (yellow) whichever the direction.
  assert.equal(objectiveColor(0.3, 0.3, 0.4, 'minimize'), 'rgba(253, 231, 37, 1)');
  assert.equal(objectiveColor(0.4, 0.3, 0.4, 'maximize'), 'rgba(253, 231, 37, 1)');
});

test('group by a hyperparameter: n, mean ± std, Welch p against the best group, mean curves per epoch', () => {
  const curve = (l: number) => [1, 2].map((e) => ({ epoch: e, step: e * 10, train_loss: l + 0.1, val_loss: l + (2 - e) * 0.1, val_accuracy: 0.8 }));
  const losses: Record<number, number[]> = { 64: [0.31, 0.33, 0.32], 128: [0.4, 0.42, 0.41], 256: [0.3, 0.36] };
  const rows: TrialView[] = [];
  for (const [len, ls] of Object.entries(losses)) for (const l of ls) rows.push(trial(rows.length, { max_seq_len: Number(len), seed: rows.length }, l, { curve: curve(l) }));
  assert.deepEqual(groupOptions(rows), ['max_seq_len'], 'seeds differ in every trial: nothing to group by seed alone');
  const g = groupTrials(rows, 'max_seq_len', 'val_loss', 'minimize');
  assert.deepEqual(g.groups.map((x) => [x.key, x.n]), [['64', 3], ['128', 3], ['256', 2]]);
  assert.equal(g.best, '64');
  assert.equal(g.runnerUp, '256');
  const at = (k: string) => g.groups.find((x) => x.key === k)!;
  assert.ok(Math.abs(at('64').score.mean! - 0.32) < 1e-12);
  assert.ok(Math.abs(at('64').score.std! - 0.01) < 1e-12);
  assert.equal(at('128').p, welchTTest(losses[64]!, losses[128]!).p);
  assert.ok(at('128').p! < 0.001);
  assert.equal(at('64').p, null);
  assert.deepEqual(at('128').curve.map((c) => [c.x, c.n]), [[1, 3], [2, 3]]);
  assert.ok(Math.abs(at('128').curve[1]!.mean - 0.41) < 1e-12);
  // Repeats of one configuration (different seeds) group as one configuration.
  const repeats = [0, 1, 2, 3].map((i) => trial(i, { learning_rate: i < 2 ? 1e-4 : 1e-3, dropout_rate: i < 2 ? 0.1 : 0.2, seed: i }, 0.3 + i / 100));
  assert.deepEqual(groupOptions(repeats), ['(configuration)', 'dropout_rate', 'learning_rate']);
  assert.deepEqual(groupTrials(repeats, '(configuration)', 'val_loss', 'minimize').groups.map((x) => x.n), [2, 2]);
});

test('log-axis ticks stay few and inside the range, whatever its width', () => {
  // The demo's slice: Chart.js's own ticks were 3.4e-4, 3.6e-4, 3.8e-4, 4e-4, … and overlapped.
  assert.deepEqual(logTicks(3.4e-4, 7e-4), [4e-4, 5e-4, 6e-4, 7e-4]);
  assert.deepEqual(logTicks(1e-6, 1e-4), [1e-6, 1e-5, 1e-4]);
  assert.deepEqual(logTicks(2e-5, 5e-4), [2e-5, 5e-5, 1e-4, 2e-4, 5e-4]);
  assert.deepEqual(logTicks(3.4e-4, 3.8e-4), [3.4e-4, 3.8e-4]);
  const wide = logTicks(1e-12, 1e3);
  assert.ok(wide.length <= 6 && wide.length >= 2, `${wide}`);
  assert.ok(wide.every((v) => v >= 1e-12 && v <= 1e3));
});
