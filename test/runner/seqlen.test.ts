import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTestCli, tempDir, writeStudyFile } from '../helpers';
import { loadStudy } from '../../src/core/study';
import { JournalStore } from '../../src/store/journal';
import { StudyRunner } from '../../src/runner/study-runner';
import { TrialFailure } from '../../src/runner/failure-policy';
import { fixedParams, SeqlenPlan, seqlenTag, summarizeSeqlen } from '../../src/runner/seqlen';
import { studyView } from '../../src/runner/report';
import { FakeObjective } from './fakes';

function writeStudy(dir: string, extra: Record<string, unknown> = {}): string {
  const searchSpace = {
    learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true },
    warmup_steps: { type: 'choice', values: [500, 1000, 1500, 2000] },
    freeze_body: { type: 'bool' },
    dropout_rate: { type: 'float', low: 0, high: 0.5 },
    batch_size: { type: 'int', low: 16, high: 48, step: 16 },
    weight_decay: { type: 'fixed', value: 0.05 },
  };
  return writeStudyFile(dir, { searchSpace, training: { epochs: 2 }, ...extra });
}

test('fixed hyperparameters: fixed values, midpoints (geometric for log), middle choice; --params wins', (t) => {
  const loaded = loadStudy(writeStudy(tempDir(t)));
  const { params, how } = fixedParams(loaded, { dropout_rate: 0.1 });
  assert.ok(Math.abs((params.learning_rate as number) - 1e-5) < 1e-12);
  assert.equal(how.learning_rate, 'geometric midpoint');
  assert.equal(params.warmup_steps, 1000);
  assert.equal(params.freeze_body, false);
  assert.equal(params.batch_size, 32);
  assert.equal(params.weight_decay, 0.05);
  assert.equal(params.dropout_rate, 0.1);
  assert.equal(how.dropout_rate, '--params');
  assert.throws(() => fixedParams(loaded, { max_seq_len: 64 }), /--lengths/);
});

test('per length: repeats with different seeds, OOM length reported not fatal, Welch test vs the best', async (t) => {
  const dir = tempDir(t);
  const store = new JournalStore(dir, { lockSignals: false, onWarning: () => {} });
  const base: Record<number, number> = { 32: 0.6, 64: 0.4, 128: 0.41, 256: 0 };
  const objective = () =>
    new FakeObjective((s) => {
      const L = Number(s.params.max_seq_len);
      if (L === 256) return { fail: new TrialFailure('out of memory even with micro-batch 1', 'oom') };
      return { value: base[L] + 0.01 * Math.sin(s.seed * 7.3) };
    }, 1);
  const runner = new StudyRunner({
    store, source: new SeqlenPlan([32, 64, 128, 256], 4, { learning_rate: 2e-5 }, 1), objective,
    stateDir: dir, metric: 'val_loss', direction: 'minimize', epochs: 1, baseSeed: 10, maxRetries: 1,
  });
  const out = await runner.run();
  assert.equal(out.reason, 'done');
  const runs = out.trials.filter((x) => seqlenTag(x));
  assert.equal(runs.filter((x) => seqlenTag(x)!.maxLen === 256).length, 1, 'after OOM (with retries) the other repeats of that length are skipped');
  assert.deepEqual(runs.filter((x) => seqlenTag(x)!.maxLen === 64).map((x) => x.seed), [10, 11, 12, 13], 'fresh seed per repeat');
  const s = summarizeSeqlen(out.trials, [32, 64, 128, 256]);
  assert.equal(s.best, 64);
  assert.equal(s.runnerUp, 128);
  const row = (L: number) => s.rows.find((r) => r.maxLen === L)!;
  assert.equal(row(64).n, 4);
  assert.match(row(256).error!, /out of memory/);
  assert.ok(row(32).pValue! < 0.001, `32 vs 64: p=${row(32).pValue}`);
  assert.ok(row(128).pValue! > 0.05, `128 vs 64: p=${row(128).pValue}`);
  assert.equal(s.significant, false);
  assert.match(s.recommendation, /max_seq_len 64: lowest mean val loss .* not significantly better than the runner-up 128/);
  // The explorer's and dashboard's view carries the same recommendation, and no tuning trials.
  const view = studyView(loadStudy(writeStudy(dir)), out.trials);
  assert.equal(view.seqlenBest, 64);
  assert.deepEqual(view.seqlen!.map((r) => r.maxLen), [32, 64, 128, 256]);
  assert.equal(view.trials.length, 0);
  await store.close();
});

test('CLI: a wrong seqlen --params is named as --params (not the study file), before any run', (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir);
  const env = { ...process.env, TRIALBOOK_TEST_EPOCH_MS: '1' };
  for (const [params, message] of [
    ['{"learningrate":1e-5}', /^trialbook: --params: "learningrate" is not a hyperparameter \(did you mean "learning_rate"\?\)/],
    ['{"batch_size":0}', /^trialbook: --params: batch_size = 0: /],
    ['nope', /^trialbook: --params: not valid JSON/],
  ] as const) {
    const r = runTestCli(['seqlen', file, '--lengths', '64', '--repeats', '1', '--params', params], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '', 'no run started');
  }
});

test('CLI: seqlen runs, resumes without re-running finished runs, and prints the table', (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir);
  const env = { ...process.env, TRIALBOOK_TEST_EPOCH_MS: '2', TRIALBOOK_TEST_OOM_ABOVE: '256' };
  const r = runTestCli(['seqlen', file, '--lengths', '64,128,512', '--repeats', '3', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const summary = lines.at(-1);
  assert.equal(summary.type, 'summary');
  assert.equal(summary.best, 128);
  assert.deepEqual(summary.rows.map((x: { maxLen: number; n: number }) => [x.maxLen, x.n]), [[64, 3], [128, 3], [512, 0]]);
  assert.match(summary.rows[2].error, /out of memory/);
  assert.equal(summary.rows[1].pValue, null);
  assert.equal(typeof summary.rows[0].pValue, 'number');
  assert.ok(summary.rows[0].pValue < 0.05);
  const again = runTestCli(['seqlen', file, '--lengths', '64,128,512', '--repeats', '3'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /^run \d+:/m, 'nothing re-run');
  assert.match(again.stdout, /\| 128 \(best\) \| 3 \|/);
  assert.match(again.stdout, /Recommendation: max_seq_len 128: lowest mean val loss/);
});
