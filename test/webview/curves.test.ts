import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Metric, TrialView } from '../../src/protocol/messages';
import { curvePoints, inheritedCurves, stepsPerEpoch } from '../../src/webview/curves';

/** Rows as the engine logs them: every 10 steps, and each epoch's row with the global step (60 steps an epoch). */
function logged(fromEpoch: number, toEpoch: number, valLoss: (e: number) => number): Metric[] {
  const rows: Metric[] = [];
  for (let e = fromEpoch; e <= toEpoch; e++) {
    for (let s = (e - 1) * 60 + 10; s < e * 60; s += 10) rows.push({ epoch: e, step: s, train_loss: 0.7 - s / 1000, val_loss: null, val_accuracy: null, learning_rate: 1e-4 });
    rows.push({ epoch: e, step: e * 60, train_loss: 0.6, val_loss: valLoss(e), val_accuracy: 0.5 + e / 10, learning_rate: 1e-4 });
  }
  return rows;
}

test('epoch rows carry the global step: validation points are kept, at their epochs', () => {
  const curve = logged(1, 3, (e) => 1 - e / 10);
  const spe = stepsPerEpoch(curve, 32);
  assert.equal(spe, 60);
  assert.deepEqual(curvePoints(curve, 'val_loss', spe), [
    { x: 1, y: 0.9 },
    { x: 2, y: 0.8 },
    { x: 3, y: 0.7 },
  ]);
  assert.deepEqual(curvePoints(curve, 'val_accuracy', spe).map((p) => p.x), [1, 2, 3]);
  // Train loss per logged step, on the same axis: step 70 is 1 + 10/60 epochs, never past its epoch.
  const train = curvePoints(curve, 'train_loss', spe);
  assert.equal(train.length, 18);
  assert.ok(Math.abs(train.find((p) => p.y === 0.7 - 70 / 1000)!.x - (1 + 10 / 60)) < 1e-12);
  for (let i = 1; i < train.length; i++) assert.ok(train[i]!.x > train[i - 1]!.x, 'x grows with the step');
  assert.equal(Math.max(...train.map((p) => p.x)), 3);
});

test('before the first epoch row: steps per epoch from the train split and the batch size', () => {
  const partial = logged(1, 1, () => 0.5).filter((m) => m.val_loss === null);
  assert.equal(stepsPerEpoch(partial, 32, 1897), 60);
  assert.equal(curvePoints(partial, 'train_loss', 60).at(-1)!.x, 50 / 60);
  // Nothing known: the epoch's rows spread evenly inside it.
  const spread = curvePoints(partial, 'train_loss', undefined).map((p) => p.x);
  assert.ok(spread.every((x) => x > 0 && x < 1));
});

test('a promoted trial shows the epochs it inherited from its parent chain', () => {
  const t = (number: number, curve: Metric[], extra: Partial<TrialView> = {}): TrialView => ({ number, state: 'complete', params: {}, value: 0.5, curve, ...extra });
  const root = t(0, logged(1, 1, () => 0.69));
  const mid = t(3, logged(2, 3, () => 0.4), { resumeFrom: 0, inheritedEpochs: 1 });
  const top = t(7, logged(4, 9, () => 0.3), { resumeFrom: 3, inheritedEpochs: 3 });
  const byNumber = new Map([root, mid, top].map((x) => [x.number, x]));
  const chain = inheritedCurves(top, byNumber);
  assert.deepEqual(chain.map((c) => c.from), [0, 3]);
  assert.deepEqual(chain.map((c) => curvePoints(c.curve, 'val_loss', 60).map((p) => p.x)), [[1], [2, 3]]);
  assert.deepEqual(inheritedCurves({ ...mid, inheritedEpochs: undefined }, byNumber), [], 'trained from scratch: nothing inherited');
});
