import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers';
import { JournalStore } from '../../src/store/journal';
import { JournalFile } from '../../src/store/journal-file';
import type { TrialEvent } from '../../src/store/types';

function open(dir: string, warnings: string[] = [], readOnly = false): JournalStore {
  return new JournalStore(dir, { onWarning: (w) => warnings.push(w), lockSignals: false, readOnly });
}

/** The next trial number, as a claim sees it. */
const next = (s: JournalStore): Promise<number> => s.claim(async (ctx) => ({ events: [], result: await ctx.nextNumber() }));

const created = (trial: number, lr = 1e-5): TrialEvent => ({ type: 'created', trial, params: { learning_rate: lr }, epochs: 3, seed: 42, at: 1 });

test('events replay into trials; state survives reopening', async (t) => {
  const dir = tempDir(t);
  const s = open(dir);
  assert.equal(await next(s), 0);
  await s.append(created(0));
  await s.append({ type: 'started', trial: 0, worker: 'w', at: 2 });
  await s.append({ type: 'metric', trial: 0, metric: { epoch: 1, train_loss: 0.9, val_loss: 0.8 }, at: 3 });
  await s.append({ type: 'finished', trial: 0, value: 0.8, result: { bestEpoch: 1 }, at: 4 });
  assert.equal(await next(s), 1);
  await s.append(created(1, 2e-5));
  await s.append({ type: 'started', trial: 1, worker: 'w', at: 5 });
  await s.append({ type: 'failed', trial: 1, reason: 'nan', cause: 'loss NaN', at: 6 });
  await s.close();

  const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 7, 'one line per event');
  const r = open(dir);
  const trials = await r.trials();
  assert.deepEqual(trials.map((x) => [x.number, x.state, x.value]), [[0, 'complete', 0.8], [1, 'failed', undefined]]);
  assert.equal(trials[0].curve.length, 1);
  assert.equal(trials[1].error, 'nan: loss NaN');
  assert.equal(await next(r), 2, 'numbering continues after the last trial');
  await r.close();
});

test('a torn last line is reported with file and line, skipped, and cut before the next append', async (t) => {
  const dir = tempDir(t);
  const s = open(dir);
  await s.append(created(0));
  await s.append({ type: 'started', trial: 0, worker: 'w', at: 2 });
  await s.close();
  const file = join(dir, 'journal.jsonl');
  const before = readFileSync(file, 'utf8');
  appendFileSync(file, '{"type":"finished","trial":0,"val');

  const warnings: string[] = [];
  const r = open(dir, warnings);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: last line is incomplete`));
  const trials = await r.trials();
  assert.equal(trials.length, 1);
  assert.equal(trials[0].state, 'running', 'everything before the torn line is kept');
  assert.equal(readFileSync(file, 'utf8'), before, 'the torn tail was cut away');
  await r.append({ type: 'finished', trial: 0, value: 0.5, result: {}, at: 9 });
  await r.close();
  const again: string[] = [];
  const r2 = open(dir, again);
  assert.deepEqual(again, [], 'the journal is valid again');
  assert.equal((await r2.trials())[0].value, 0.5);
  await r2.close();
});

test('an unreadable line in the middle is skipped with a warning, later lines still count', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'journal.jsonl');
  writeFileSync(file, [JSON.stringify(created(0)), '{"type":"created","trial":"x"}', 'garbage', JSON.stringify(created(1))].join('\n') + '\n');
  const warnings: string[] = [];
  const s = open(dir, warnings);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /:2: skipped an unreadable event \(trial:/);
  assert.match(warnings[1], /:3: skipped an unreadable event \(not JSON\)/);
  assert.deepEqual((await s.trials()).map((x) => x.number), [0, 1]);
  await s.close();
});

test('a read-only store picks up lines appended by the writer and never truncates', async (t) => {
  const dir = tempDir(t);
  const w = open(dir);
  await w.append(created(0));
  const warnings: string[] = [];
  const r = open(dir, warnings, true);
  assert.equal((await r.trials()).length, 1);
  await w.append(created(1));
  appendFileSync(join(dir, 'journal.jsonl'), '{"type":"cre');
  assert.equal((await r.trials()).length, 2);
  assert.deepEqual(warnings, [], 'a line being written is not an error for a reader');
  await assert.rejects(r.append(created(5)), /read-only/);
  await r.close();
  await w.close();
});

test('a re-run replaces the old curve tail; a resumed one keeps earlier epochs', async (t) => {
  const dir = tempDir(t);
  const s = open(dir);
  await s.append(created(0));
  await s.append({ type: 'started', trial: 0, worker: 'w', at: 1 });
  for (const e of [1, 2]) await s.append({ type: 'metric', trial: 0, metric: { epoch: e, train_loss: 1 / e, val_loss: 1 / e }, at: 2 });
  await s.append({ type: 'failed', trial: 0, reason: 'interrupted', at: 3 });
  await s.append({ type: 'started', trial: 0, worker: 'w', resume: true, attempt: 2, at: 4 });
  await s.append({ type: 'metric', trial: 0, metric: { epoch: 2, train_loss: 0.4, val_loss: 0.4 }, at: 5 });
  await s.append({ type: 'metric', trial: 0, metric: { epoch: 3, train_loss: 0.3, val_loss: 0.3 }, at: 6 });
  let [tr] = await s.trials();
  assert.deepEqual(tr.curve.map((m) => [m.epoch, m.val_loss]), [[1, 1], [2, 0.4], [3, 0.3]]);
  assert.equal(tr.attempts, 2);
  await s.append({ type: 'failed', trial: 0, reason: 'interrupted', at: 7 });
  await s.append({ type: 'started', trial: 0, worker: 'w', at: 8 });
  [tr] = await s.trials();
  assert.deepEqual(tr.curve, [], 'a run from scratch starts a new curve');
  assert.deepEqual(tr.failures?.map((f) => f.reason), ['interrupted', 'interrupted']);
  await s.close();
});

test('engine-style curves: step points and epoch summaries (which also carry a step) both kept, in order', async (t) => {
  const dir = tempDir(t);
  const s = open(dir);
  await s.append(created(0));
  await s.append({ type: 'started', trial: 0, worker: 'w', at: 1 });
  const pts = [
    { epoch: 1, step: 2, train_loss: 0.7, val_loss: null },
    { epoch: 1, step: 4, train_loss: 0.6, val_loss: null },
    { epoch: 1, step: 4, train_loss: 0.6, val_loss: 0.65, val_accuracy: 0.6 },
    { epoch: 2, step: 6, train_loss: 0.5, val_loss: null },
  ];
  for (const m of pts) await s.append({ type: 'metric', trial: 0, metric: m, at: 2 });
  const [tr] = await s.trials();
  assert.deepEqual(tr.curve.map((m) => [m.epoch, m.step, m.val_loss]), [[1, 2, null], [1, 4, null], [1, 4, 0.65], [2, 6, null]]);
  await s.close();
});

test('a full disk is a clear error naming the journal, not a crash', { skip: !existsSync('/dev/full') && 'needs /dev/full' }, () => {
  const f = new JournalFile('/dev/full');
  assert.throws(() => f.append(created(0)), (e: Error) => e.name === 'UserError' && /\/dev\/full: cannot append to the study journal \(ENOSPC: disk full\)/.test(e.message));
  f.close();
});
