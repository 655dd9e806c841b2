/**
 * Which checkpoint an attempt continues: never a folder another trial left behind (issue 17: a
 * removed journal and a changed search space made trial 0 "resume" an old configuration's
 * checkpoint and report its values without training an epoch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers';
import { materialise, planCheckpoint, trialDir } from '../../src/runner/checkpoint-source';
import type { ClaimContext, StoredTrial, StudyStore } from '../../src/store/types';

function trial(n: number, learningRate: number, extra: Partial<StoredTrial> = {}): StoredTrial {
  return { number: n, params: { learning_rate: learningRate, batch_size: 32 }, state: 'complete', curve: [{ epoch: 1, train_loss: 0.6, val_loss: 0.5 }], seed: 42, attempts: 1, failures: [], ...extra };
}
const ctx = (trials: StoredTrial[]): ClaimContext => ({ trials, nextNumber: async () => trials.length, checkpoint: async () => undefined });
const local = (stateDir: string) => ({ stateDir, shared: false, keepsCheckpoints: false });
const noStore = {} as StudyStore;

/** An attempt of `t` that trained one epoch: its folder as the runner and the objective leave it. */
async function trained(stateDir: string, t: StoredTrial): Promise<void> {
  await materialise({ kind: 'fresh' }, t, stateDir, noStore);
  writeFileSync(join(trialDir(stateDir, t.number), 'checkpoint', 'checkpoint.json'), '{"epoch":1}');
}

test('a checkpoint folder left by another trial is not continued: a re-run starts fresh, a promotion from it trains from scratch and says why', async (t) => {
  const stateDir = tempDir(t);
  // The study's earlier life: trial 0 at learning rate 5e-4. Then the journal went and the search space changed.
  await trained(stateDir, trial(0, 5e-4));
  const now = trial(0, 0.0114, { state: 'running' });
  assert.deepEqual(await planCheckpoint(now, 2, ctx([now]), local(stateDir)), { kind: 'fresh' }, 'trial 0 of today does not resume the old trial 0');
  assert.deepEqual(await planCheckpoint(trial(0, 5e-4, { state: 'running' }), 2, ctx([]), local(stateDir)), { kind: 'own' }, 'the old trial itself would');

  const source = trial(0, 0.0114);
  const promoted = trial(5, 0.0114, { state: 'queued', resumeFrom: 0, attempts: 0 });
  const plan = await planCheckpoint(promoted, 1, ctx([source, promoted]), local(stateDir));
  assert.equal(plan.kind, 'none');
  assert.match((plan as { reason: string }).reason, /trials\/0\/checkpoint holds the checkpoint of another trial 0 \(other hyperparameters or seed/);

  // A promotion continues its real source, and a re-run of it continues that copy.
  await trained(stateDir, source);
  assert.equal((await planCheckpoint(promoted, 1, ctx([source, promoted]), local(stateDir))).kind, 'local');
  await materialise({ kind: 'local', from: 0 }, promoted, stateDir, noStore);
  assert.equal((await planCheckpoint({ ...promoted, state: 'running' }, 2, ctx([source, promoted]), local(stateDir))).kind, 'own');
});

test('a checkpoint folder from before owners were recorded is continued as before', async (t) => {
  const stateDir = tempDir(t);
  await trained(stateDir, trial(0, 5e-4));
  rmSync(join(trialDir(stateDir, 0), 'checkpoint', '.owner.json'));
  assert.deepEqual(await planCheckpoint(trial(0, 0.0114, { state: 'running' }), 2, ctx([]), local(stateDir)), { kind: 'own' });
});
