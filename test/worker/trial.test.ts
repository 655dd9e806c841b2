/**
 * The trial job through WorkerClient and a real worker: cancel during an epoch, SIGKILL of the
 * worker mid-epoch (the next trial runs on a fresh worker), NaN loss and a damaged checkpoint as causes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../../src/worker/client';
import { isWorkerJobError, type WorkerJobError } from '../../src/worker/errors';
import type { Metric } from '../../src/protocol/messages';
import { objectiveValue, type TrialJobResult } from '../../src/worker/jobs/trial-types';
import { tempDir, userError } from '../helpers';
import { makeStudy, trialJob } from './fixtures';

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
    c.run<TrialJobResult>(trialJob(study, { batch_size: 8, ...params }), { onMetric });

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
  assert.notEqual(c.info?.pid, pid, 'a fresh worker ran it');
  assert.equal(c.workersStarted, 2);
});

test('trial job: a diverging learning rate fails as nan, a damaged checkpoint as user; a bad hyperparameter never reaches a worker', async (t) => {
  const dir = tempDir(t);
  const study = makeStudy(dir, 120);
  const c = new WorkerClient();
  t.after(() => c.close());
  const nan = await rejection(c.run(trialJob(study, { learning_rate: 1e30, epochs: 1, batch_size: 8 })));
  assert.equal(nan.cause, 'nan', nan.message);
  assert.match(nan.message, /learning_rate/);
  const checkpointDir = join(dir, 'ck');
  mkdirSync(checkpointDir);
  writeFileSync(join(checkpointDir, 'checkpoint.json'), '{ torn');
  const user = await rejection(c.run(trialJob(study, { epochs: 1, batch_size: 8 }, { checkpointDir, resume: true })));
  assert.equal(user.cause, 'user');
  assert.match(user.message, /checkpoint\.json: not valid JSON .*delete it to start over/);
  assert.match(userError(() => trialJob(study, { batch_sise: 8 })), /"batch_sise" is not a hyperparameter \(did you mean "batch_size"\?\)/);
});

test('frozen trials share the study\'s feature cache across workers: later ones build only the head, same result, and keep their worker', async (t) => {
  const dir = tempDir(t);
  const study = makeStudy(dir, 200);
  // The default: one fresh worker per trial, as `tune` runs them.
  const c = new WorkerClient();
  t.after(() => c.close());
  const frozen = async () => {
    const logs: string[] = [];
    const r = await c.run<TrialJobResult>(trialJob(study, { freeze_body: true, learning_rate: 1e-2, batch_size: 16, epochs: 3 }), { onLog: (_l, text) => logs.push(text) });
    return { r, logs };
  };
  const first = await frozen();
  const featuresDir = join(dir, '.trialbook', 'tiny-test', 'features');
  const files = readdirSync(featuresDir).filter((f) => /^features-[0-9a-f]{8}\.safetensors$/.test(f));
  assert.equal(files.length, 2, `train and val features in ${featuresDir}: ${readdirSync(featuresDir)}`);
  assert.ok(!first.logs.some((l) => /building the head only/.test(l)));
  const written = files.map((f) => statSync(join(featuresDir, f)).mtimeMs);

  const second = await frozen();
  assert.equal(c.workersStarted, 2, 'a fresh worker ran the second trial (the first one ran the encoder)');
  assert.ok(second.logs.some((l) => /building the head only/.test(l)), second.logs.join('\n'));
  assert.deepEqual(files.map((f) => statSync(join(featuresDir, f)).mtimeMs), written, 'features read, not rewritten');
  assert.equal(second.r.bestValLoss, first.r.bestValLoss);
  assert.deepEqual(second.r.curve.map((m) => m.val_loss), first.r.curve.map((m) => m.val_loss));
  assert.equal(first.r.encoderRan, true);
  assert.equal(second.r.encoderRan, false);

  // Head-only trials leave memory flat, so they keep their worker: no process start per trial.
  const rss: number[] = [];
  for (let i = 0; i < 4; i++) {
    await frozen();
    rss.push(c.info!.rssMiB!);
  }
  assert.equal(c.workersStarted, 2, 'head-only trials ran in the worker they found');
  assert.ok(Math.max(...rss) - Math.min(...rss) <= 8, `RSS over head-only trials in one worker: ${rss.join(', ')} MiB`);
  // A full fine-tuning trial still counts: the next trial gets a fresh worker.
  await c.run<TrialJobResult>(trialJob(study, { batch_size: 16, epochs: 1 }));
  await frozen();
  assert.equal(c.workersStarted, 3);
});

test('a study\'s encoderDropout replaces the preset\'s, trains differently, and is what the saved config records', async (t) => {
  const c = new WorkerClient({ recycleAfter: 0 });
  t.after(() => c.close());
  const run = async (encoderDropout: Record<string, number>) => {
    const dir = tempDir(t);
    const study = makeStudy(dir, 160, { encoderDropout });
    const saveTo = join(dir, 'model');
    const r = await c.run<TrialJobResult>(trialJob(study, { batch_size: 16, epochs: 2 }, { saveTo }));
    return { r, config: JSON.parse(readFileSync(join(saveTo, 'config.json'), 'utf8')) as Record<string, number> };
  };
  const none = await run({ hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const more = await run({ hidden_dropout_prob: 0.3 });
  assert.equal(none.config.hidden_dropout_prob, 0);
  assert.equal(none.config.attention_probs_dropout_prob, 0);
  assert.equal(more.config.hidden_dropout_prob, 0.3);
  assert.equal(more.config.attention_probs_dropout_prob, 0.1, 'the preset keeps what the study does not set');
  assert.notEqual(more.r.curve[0].train_loss, none.r.curve[0].train_loss);
});

test('the objective of a val_accuracy study is the best accuracy of any epoch; of val_loss the best loss', () => {
  const curve = [
    { epoch: 1, train_loss: 0.7, val_loss: 0.5, val_accuracy: 0.7 },
    { epoch: 1, step: 9, train_loss: 0.6 },
    { epoch: 2, train_loss: 0.5, val_loss: 0.45, val_accuracy: 0.74 },
    { epoch: 3, train_loss: 0.4, val_loss: 0.48, val_accuracy: 0.78 },
  ];
  assert.equal(objectiveValue({ bestValLoss: 0.45, curve }, 'val_loss'), 0.45);
  assert.equal(objectiveValue({ bestValLoss: 0.45, curve }, 'val_accuracy'), 0.78, 'not 0.74, the accuracy at the best-loss epoch');
  assert.ok(Number.isNaN(objectiveValue({ bestValLoss: 0.45, curve: [] }, 'val_accuracy')));
});
