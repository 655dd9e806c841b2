import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir, writeStudyFile } from '../helpers';
import { loadStudy } from '../../src/core/study';
import { Rng } from '../../src/core/rng';
import type { StoredTrial } from '../../src/store/types';
import { buildJsonReport, renderCsvReport, renderMarkdownReport, studyView } from '../../src/runner/report';
import { importance } from '../../src/runner/importance';

function study(dir: string) {
  return loadStudy(writeStudyFile(dir, { searchSpace: { learning_rate: { type: 'float', low: 1e-5, high: 1e-4, log: true }, batch_size: { type: 'choice', values: [32, 64] } } }));
}

function trial(n: number, state: StoredTrial['state'], value?: number, extra: Partial<StoredTrial> = {}): StoredTrial {
  return { number: n, params: { learning_rate: [1e-5, 2e-5, 3e-5, 4e-5, 5e-5][n], batch_size: n % 2 ? 64 : 32 }, state, curve: [], ...(value !== undefined ? { value } : {}), result: { bestEpoch: 2 }, startedAt: 0, finishedAt: 1500, ...extra };
}

test('importance finds the hyperparameter that drives the objective', () => {
  const rng = new Rng(3);
  const rows = Array.from({ length: 40 }, () => ({ learning_rate: 10 ** (-5 + rng.next()), batch_size: [32, 64, 128][rng.int(3)], dropout_rate: rng.next() * 0.5 }));
  const values = rows.map((r) => (Math.log10(r.learning_rate) + 4.5) ** 2 + 0.01 * rng.next());
  const imp = importance(rows, values)!;
  assert.equal(imp[0].name, 'learning_rate');
  assert.ok(imp[0].share > 0.6, `learning_rate share ${imp[0].share}`);
  assert.ok(Math.abs(imp.reduce((a, b) => a + b.share, 0) - 1) < 1e-9);
  assert.equal(importance(rows.slice(0, 3), values.slice(0, 3)), undefined, 'too few trials: no estimate');
});

test('view, Markdown, CSV and JSON: sorted by objective, best trial first, failed last', (t) => {
  const loaded = study(tempDir(t));
  const trials = [trial(0, 'complete', 0.7), trial(1, 'failed', undefined, { error: 'nan: loss NaN' }), trial(2, 'complete', 0.4), trial(3, 'pruned'), trial(4, 'complete', 0.55)];
  const view = studyView(loaded, trials);
  assert.equal(view.bestTrial, 2);
  assert.equal(view.trials.find((x) => x.number === 2)?.durationS, 1.5);
  const md = renderMarkdownReport(view);
  assert.match(md, /### Best trial: #2 — val_loss 0\.4 at epoch 2/);
  assert.match(md, /```json\n\{\n {2}"learning_rate": 0\.00003,\n {2}"batch_size": 32\n\}\n```/);
  const rows = md.split('\n').filter((l) => /^\| \d/.test(l)).map((l) => Number(l.split('|')[1]));
  assert.deepEqual(rows, [2, 4, 0, 3, 1]);
  assert.match(md, /\| 1 \| failed \(nan\) \|/);
  const csv = renderCsvReport(view).trim().split('\n');
  assert.equal(csv[0], 'number,state,val_loss,val_accuracy,best_epoch,epochs,resumed_from,duration_s,bracket,error,batch_size,learning_rate');
  assert.match(csv[1], /^2,complete,0\.4,,2,,,1\.5,,,32,0\.00003$/);
  assert.match(csv[5], /^1,failed,,,2,,,1\.5,,nan: loss NaN,64,0\.00002$/);
  const json = buildJsonReport(view) as { best: { number: number }; trials: unknown[]; importance: { method: string } };
  assert.equal(json.best.number, 2);
  assert.equal(json.trials.length, 5);
  assert.match(json.importance.method, /random forest/);
});

/** A finished trial as the engine records it: epoch summaries with val loss and accuracy. */
function trained(n: number, losses: number[], accuracies: number[], extra: Partial<StoredTrial> = {}): StoredTrial {
  const curve = losses.map((l, i) => ({ epoch: i + 1, step: (i + 1) * 60, train_loss: l + 0.1, val_loss: l, val_accuracy: accuracies[i]! }));
  const best = losses.indexOf(Math.min(...losses));
  return trial(n, 'complete', losses[best], { curve, result: { bestEpoch: best + 1, bestValLoss: losses[best], bestValAccuracy: accuracies[best] }, ...extra });
}

test('every recorded metric: val accuracy at the best epoch in the view, Markdown, CSV and JSON', (t) => {
  const loaded = study(tempDir(t));
  const view = studyView(loaded, [trained(0, [0.6, 0.45, 0.5], [0.7, 0.81, 0.8]), trained(1, [0.66], [0.6])]);
  const t0 = view.trials.find((x) => x.number === 0)!;
  assert.deepEqual([t0.bestEpoch, t0.valLoss, t0.valAccuracy], [2, 0.45, 0.81]);
  const md = renderMarkdownReport(view);
  assert.match(md, /### Best trial: #0 — val_loss 0\.45, val_accuracy 0\.81 at epoch 2/);
  assert.match(md, /\| # \| state \| val_loss \| val_accuracy \| best epoch \| epochs \|/);
  assert.match(md, /\| 0 \| complete \| 0\.45 \| 0\.81 \| 2 \|/);
  assert.match(renderCsvReport(view).split('\n')[1]!, /^0,complete,0\.45,0\.81,2,/);
  const json = buildJsonReport(view) as { best: { valAccuracy: number }; trials: Array<{ valAccuracy?: number }> };
  assert.equal(json.best.valAccuracy, 0.81);
  assert.equal(json.trials[1]!.valAccuracy, 0.6);
});

test('a trial stopped by the user or interrupted is cancelled (resumable), not failed', (t) => {
  const loaded = study(tempDir(t));
  const stopped = trial(0, 'failed', undefined, { error: 'cancelled: stopped by the user', failures: [{ reason: 'cancelled', cause: 'stopped by the user', at: 1 }] });
  const died = trial(1, 'failed', undefined, { error: 'interrupted', failures: [{ reason: 'interrupted', at: 1 }] });
  const broken = trial(2, 'failed', undefined, { error: 'nan: loss NaN', failures: [{ reason: 'nan', at: 1 }] });
  const view = studyView(loaded, [stopped, died, broken]);
  assert.deepEqual(view.trials.map((x) => x.state), ['cancelled', 'cancelled', 'failed']);
  assert.match(renderMarkdownReport(view), /3 trials \(2 cancelled, 1 failed\)/);
});

test('importance with too few trials says so instead of a table of 0.0%', (t) => {
  const loaded = study(tempDir(t));
  const few = studyView(loaded, [0, 1, 2, 3, 4].map((n) => trial(n, 'complete', 0.5 + n / 100)));
  const md = renderMarkdownReport(few);
  assert.match(md, /### Hyperparameter importance\n\nNot estimated: importance needs at least 10 complete trials at comparable budgets; this study has 5\./);
  assert.doesNotMatch(md, /0\.0%/);
  assert.match((buildJsonReport(few) as { importance: { why: string } }).importance.why, /at least 10/);
  const rng = new Rng(5);
  const many = Array.from({ length: 12 }, (_, n) => {
    const lr = 10 ** (-5 + rng.next());
    return { ...trial(0, 'complete', (Math.log10(lr) + 4.5) ** 2), number: n, params: { learning_rate: lr, batch_size: n % 2 ? 64 : 32 } };
  });
  assert.match(renderMarkdownReport(studyView(loaded, many)), /\| learning_rate \| \d+\.\d% \|/);
});

test('a promoted trial names the trial and epochs it inherited; a sequence-length run is listed apart', (t) => {
  const loaded = study(tempDir(t));
  const parent = trained(0, [0.6], [0.7], { epochs: 1 });
  const child = trained(1, [0.6, 0.5, 0.4], [0.7, 0.8, 0.85], { epochs: 3, resumeFrom: 0, checkpoint: { source: 'local', from: 0, epoch: 1 } });
  const scratch = trained(2, [0.6, 0.5, 0.45], [0.7, 0.8, 0.82], { epochs: 3, resumeFrom: 0, checkpoint: { source: 'none', from: 0, reason: 'gone' } });
  const run = trained(3, [0.5], [0.8], { tag: { seqlen: { maxLen: 64, repeat: 0 } } });
  const view = studyView(loaded, [parent, child, scratch, run]);
  const byNumber = new Map(view.trials.map((x) => [x.number, x]));
  assert.deepEqual([byNumber.get(1)!.resumeFrom, byNumber.get(1)!.inheritedEpochs], [0, 1]);
  assert.equal(byNumber.get(2)!.inheritedEpochs, undefined, 'trained from scratch: inherits nothing');
  assert.equal(byNumber.has(3), false);
  assert.deepEqual(view.seqlenRuns!.map((x) => [x.number, x.seqlen]), [[3, { maxLen: 64, repeat: 0 }]]);
  assert.match(view.seqlenRecommendation!, /max_seq_len 64/);
  assert.equal(view.space!.learning_rate!.log, true);
  assert.deepEqual(view.space!.batch_size!.values, [32, 64]);
});
