/**
 * The demo study runs end to end from the CLI with every tuner, with real training in the
 * worker (a small corpus, 1 epoch, max_seq_len 32, so the whole file takes well under a minute).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDemoWorkspace } from '../../src/core/demo';
import { runCli, tempDir } from '../helpers';

const TUNERS: Record<string, { tuner: object; runs: number }> = {
  random: { tuner: { type: 'random' }, runs: 2 },
  grid: { tuner: { type: 'grid' }, runs: 2 },
  hyperband: { tuner: { type: 'hyperband', max_epochs: 2, factor: 2 }, runs: 5 },
  bayesian: { tuner: { type: 'bayesian', initial_points: 1 }, runs: 2 },
  tpe: { tuner: { type: 'tpe', initial_points: 1 }, runs: 2 },
  asha: { tuner: { type: 'asha', min_epochs: 1, max_epochs: 2, factor: 2 }, runs: 2 },
};

function smallDemo(dir: string, name: string): string {
  writeDemoWorkspace(dir, { count: 300, seed: 1 });
  const file = join(dir, 'demo.trialbook.json');
  const s = JSON.parse(readFileSync(file, 'utf8'));
  s.training = { ...s.training, epochs: 1, max_seq_len: 32 };
  s.tuner = TUNERS[name]!.tuner;
  s.budget = { maxTrials: 2 };
  // Grid needs a finite space: one two-valued choice, the rest fixed.
  if (name === 'grid') {
    s.searchSpace = {
      learning_rate: { type: 'choice', values: [1e-3, 2e-3] },
      batch_size: { type: 'fixed', value: 32 },
      freeze_body: { type: 'fixed', value: false },
      dropout_rate: { type: 'fixed', value: 0.1 },
      warmup_steps: { type: 'fixed', value: 0 },
    };
  }
  writeFileSync(file, JSON.stringify(s, null, 2));
  return file;
}

for (const name of Object.keys(TUNERS)) {
  test(`demo study, ${name} tuner: tune then report, real training in the worker`, (t) => {
    const study = smallDemo(tempDir(t), name);
    const r = runCli(['tune', study]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const report = runCli(['report', study, '--format', 'json']);
    assert.equal(report.code, 0, report.stderr);
    const json = JSON.parse(report.stdout);
    const trials = json.trials as Array<{ state: string; value: number | null }>;
    assert.equal(trials.length, TUNERS[name]!.runs);
    assert.ok(trials.every((x) => x.state === 'complete' && Number.isFinite(x.value)), JSON.stringify(trials));
    assert.equal(typeof json.best?.number, 'number');
  });
}

test('demo study: report --test --notes scores the best model and writes only the notes block', (t) => {
  const dir = tempDir(t);
  const study = smallDemo(dir, 'random');
  assert.equal(runCli(['tune', study]).code, 0);
  const notes = join(dir, 'notes.md');
  const before = readFileSync(notes, 'utf8');
  const r = runCli(['report', study, '--test', '--notes']);
  assert.equal(r.code, 0, r.stderr);
  const after = readFileSync(notes, 'utf8');
  assert.ok(after.startsWith(before), 'the user text before the block is unchanged');
  assert.match(after.slice(before.length), /^\n?<!-- trialbook:begin study=demo -->\n[\s\S]*Test split[\s\S]*accuracy [\d.]+ on \d+ examples[\s\S]*<!-- trialbook:end -->\n$/);
  // Again: the block is replaced in place, nothing added.
  assert.equal(runCli(['report', study, '--test', '--notes']).code, 0);
  assert.equal(readFileSync(notes, 'utf8').split('trialbook:begin').length, 2);
});
