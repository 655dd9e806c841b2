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
  assert.equal(csv[0], 'number,state,val_loss,best_epoch,epochs,duration_s,bracket,error,batch_size,learning_rate');
  assert.match(csv[1], /^2,complete,0\.4,2,,1\.5,,,32,0\.00003$/);
  assert.match(csv[5], /^1,failed,,2,,1\.5,,nan: loss NaN,64,0\.00002$/);
  const json = buildJsonReport(view) as { best: { number: number }; trials: unknown[]; importance: { method: string } };
  assert.equal(json.best.number, 2);
  assert.equal(json.trials.length, 5);
  assert.match(json.importance.method, /random forest/);
});
