/**
 * The trial job through WorkerClient and a real worker: cancel during an epoch, SIGKILL of the
 * worker mid-epoch (the next trial runs on a fresh worker), NaN loss and bad params as causes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerClient } from '../../src/worker/client';
import { isWorkerJobError, type WorkerJobError } from '../../src/worker/errors';
import type { Metric } from '../../src/protocol/messages';
import type { TrialJobResult } from '../../src/worker/jobs/trial-types';
import { tempDir } from '../helpers';
import { makeStudy } from './fixtures';

async function rejection(p: Promise<unknown>): Promise<WorkerJobError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isWorkerJobError(e), String(e));
    return e;
  }
  assert.fail('the trial should have failed');
}

test('trial job: cancel during an epoch stops within one step; SIGKILL mid-epoch → crash, then a fresh worker trains', async (t) => {
  const dir = tempDir(t);
  const study = makeStudy(dir, 300);
  const c = new WorkerClient({ recycleAfter: 0 });
  t.after(() => c.close());
  const trial = (params: Record<string, number>, onMetric?: (m: Metric) => void) =>
    c.run<TrialJobResult>({ kind: 'trial', options: { study, params: { batch_size: 8, ...params } } }, { onMetric });

  // Cancel after the second live metric (logEverySteps 2 → step 4): at most one more step runs.
  let afterCancel = 0;
  let cancelled = false;
  const job = trial({ epochs: 20 }, (m) => {
    if (cancelled) afterCancel++;
    else if (m.step !== undefined && m.step >= 4) {
      cancelled = true;
      c.cancel(job.id);
    }
  });
  const e = await rejection(job);
  assert.equal(e.cause, 'cancelled', e.message);
  assert.ok(afterCancel <= 1, `metrics after the cancel: ${afterCancel}`);
  const pid = c.info?.pid;
  assert.ok(pid);

  // Kill the worker in the middle of an epoch.
  const killed = trial({ epochs: 20 }, (m) => {
    if (m.step !== undefined && m.step >= 4) process.kill(c.info!.pid!, 'SIGKILL');
  });
  const k = await rejection(killed);
  assert.equal(k.cause, 'crash');
  assert.match(k.message, /SIGKILL/);

  const ok = await trial({ epochs: 1, max_seq_len: 12 });
  assert.equal(ok.epochsRun, 1);
  assert.ok(Number.isFinite(ok.bestValLoss));
  assert.equal(ok.params.max_seq_len, 12);
  assert.notEqual(c.info?.pid, pid, 'a fresh worker ran it');
  assert.equal(c.workersStarted, 2);
});

test('trial job: a diverging learning rate fails as nan, a bad hyperparameter as user', async (t) => {
  const dir = tempDir(t);
  const study = makeStudy(dir, 120);
  const c = new WorkerClient();
  t.after(() => c.close());
  const nan = await rejection(c.run({ kind: 'trial', options: { study, params: { learning_rate: 1e30, epochs: 1, batch_size: 8 } } }));
  assert.equal(nan.cause, 'nan', nan.message);
  assert.match(nan.message, /learning_rate/);
  const user = await rejection(c.run({ kind: 'trial', options: { study, params: { batch_sise: 8 } } }));
  assert.equal(user.cause, 'user');
  assert.match(user.message, /"batch_sise" is not a hyperparameter \(did you mean "batch_size"\?\)/);
});
