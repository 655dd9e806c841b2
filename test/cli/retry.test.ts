/**
 * Failed trials whose cause the user fixes outside the trial are run again: a full disk (an
 * environment fault, retried like an error), a damaged checkpoint the user deleted, a
 * search-space typo fixed before `--resume` (refused before any trial); `--retry-failed` gives
 * every failed trial another attempt. And a study file edited while `tune` runs changes none of
 * the running study's trials: the worker trains what the parent resolved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors';
import { replay } from '../../src/store/replay';
import type { StoredTrial, TrialEvent } from '../../src/store/types';
import { toWorkerError } from '../../src/worker/errors';
import { cliPath, runCli, runTestCli, tempDir, testCliPath, writeStudyFile } from '../helpers';
import { makeStudy } from '../worker/fixtures';

const quadratic = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, TRIALBOOK_TEST_EPOCH_MS: '1', ...extra });

function writeStudy(dir: string, budget: Record<string, unknown> = {}): string {
  const searchSpace = { learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true }, dropout_rate: { type: 'float', low: 0, high: 0.5 } };
  return writeStudyFile(dir, { searchSpace, training: { epochs: 2 }, budget: { maxTrials: 4, max_retries_per_trial: 1, max_consecutive_failed_trials: 2, ...budget } });
}

function trials(dir: string, name = 'demo'): StoredTrial[] {
  const file = join(dir, '.trialbook', name, 'journal.jsonl');
  return existsSync(file) ? replay(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrialEvent)) : [];
}

test('a full disk is an environment fault of the machine, not bad input: the raw errno and the E_IO error that names it', { skip: !existsSync('/dev/full') && 'needs /dev/full' }, () => {
  let diskFull: unknown;
  try {
    writeFileSync('/dev/full', 'checkpoint');
  } catch (e) {
    diskFull = e;
  }
  assert.equal((diskFull as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.equal(toWorkerError(diskFull).cause, 'environment');
  assert.equal(toWorkerError(new UserError('/x/checkpoint.json: cannot write (ENOSPC: disk full); nothing was changed', 'E_IO')).cause, 'environment');
  assert.equal(toWorkerError(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })).cause, 'environment');
  assert.equal(toWorkerError(new UserError('data.tsv:3: label "maybe" is not one of 0, 1', 'E_DATA')).cause, 'user');
});

test('disk full: trials fail as environment faults, the study stops with advice; after the disk is freed --resume re-runs them', { skip: !existsSync('/dev/full') && 'needs /dev/full' }, (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir);
  const full = runTestCli(['tune', file], { env: quadratic({ TRIALBOOK_TEST_FAIL: 'enospc' }) });
  assert.equal(full.code, 2, full.stderr);
  assert.match(full.stderr, /study stopped: 2 trials in a row failed \(environment, environment; last: ENOSPC/);
  assert.match(full.stderr, /the machine failed the trial \(disk full/);
  assert.match(full.stdout, /trial 0 failed \(environment\): ENOSPC.* — will retry/);
  const failed = trials(dir);
  assert.deepEqual(failed.map((x) => [x.state, x.failures!.map((f) => f.reason)]), [['failed', ['environment', 'environment']], ['failed', ['environment', 'environment']]]);
  const resumed = runTestCli(['tune', file, '--resume'], { env: quadratic() });
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = trials(dir);
  assert.deepEqual(after.map((x) => x.state), ['complete', 'complete', 'complete', 'complete'], 'the failed trials ran again, and the budget was spent on trials that trained');
  assert.deepEqual(after.slice(0, 2).map((x) => x.attempts), [3, 3]);
  assert.match(resumed.stdout, /study demo: 4 trials \(4 complete, 0 failed/);
});

test('a damaged checkpoint fails its trial as bad input; once the user deletes it, --resume trains the trial again', async (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 2 });
  // A run killed mid-trial leaves the trial's checkpoint, which then gets damaged.
  const c = spawn(process.execPath, [testCliPath, 'tune', file], { env: quadratic({ TRIALBOOK_TEST_EPOCH_MS: '300' }), stdio: 'ignore' });
  const ckpt = join(dir, '.trialbook', 'demo', 'trials', '0', 'checkpoint', 'quadratic.json');
  while (!existsSync(ckpt)) await new Promise((r) => setTimeout(r, 20));
  c.kill('SIGKILL');
  await new Promise((r) => c.on('exit', r));
  writeFileSync(ckpt, '{"epo');
  const damaged = runTestCli(['tune', file, '--resume'], { env: quadratic() });
  assert.equal(damaged.code, 0, damaged.stderr);
  assert.match(damaged.stdout, /trial 0 failed \(user\): .*quadratic\.json: not valid JSON .*delete it to start over/);
  assert.deepEqual(trials(dir).map((x) => x.state), ['failed', 'complete']);
  // The same resume, nothing fixed: the trial fails again the same way.
  assert.deepEqual((runTestCli(['tune', file, '--resume'], { env: quadratic() }), trials(dir).map((x) => x.state)), ['failed', 'complete']);
  rmSync(ckpt);
  const fixed = runTestCli(['tune', file, '--resume'], { env: quadratic() });
  assert.equal(fixed.code, 0, fixed.stderr);
  const [first] = trials(dir);
  assert.equal(first!.state, 'complete');
  assert.equal(first!.result?.resumedFromEpoch, undefined, 'trained from scratch');
  assert.match(fixed.stdout, /study demo: 2 trials \(2 complete, 0 failed/);
});

test('--retry-failed gives every failed trial one more attempt, not only the fixable ones', (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 2, max_consecutive_failed_trials: 5 });
  assert.equal(runTestCli(['tune', file], { env: quadratic({ TRIALBOOK_TEST_FAIL: 'error' }) }).code, 0);
  assert.deepEqual(trials(dir).map((x) => [x.state, x.attempts]), [['failed', 2], ['failed', 2]]);
  assert.equal(runTestCli(['tune', file, '--resume'], { env: quadratic() }).code, 0);
  assert.deepEqual(trials(dir).map((x) => x.state), ['failed', 'failed'], 'an error of the trial itself waits for --retry-failed');
  const retried = runTestCli(['tune', file, '--retry-failed'], { env: quadratic() });
  assert.equal(retried.code, 0, retried.stderr);
  assert.deepEqual(trials(dir).map((x) => [x.state, x.attempts]), [['complete', 3], ['complete', 3]]);
});

/** A `tiny` study that really trains in the worker process, with a typo in its search space. */
function writeRealStudy(dir: string, dimension: string): string {
  const file = makeStudy(dir, 120, { budget: { maxTrials: 2 }, training: { epochs: 1, max_seq_len: 16 } });
  const study = JSON.parse(readFileSync(file, 'utf8'));
  study.searchSpace = { [dimension]: { type: 'float', low: 5e-4, high: 2e-3, log: true }, batch_size: { type: 'fixed', value: 16 } };
  writeFileSync(file, JSON.stringify(study, null, 2));
  return file;
}

test('a search-space typo stops tune before any trial, naming the key; fixed, the study runs its whole budget', (t) => {
  const dir = tempDir(t);
  const file = writeRealStudy(dir, 'learnig_rate');
  const typo = runCli(['tune', file]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /"?learnig_rate"?:? .*(not a hyperparameter|unknown).*learning_rate/);
  assert.equal(typo.stderr.trim().split('\n').length, 1, typo.stderr);
  assert.equal(trials(dir, 'tiny-test').length, 0, 'no trial burned on the typo');
  writeRealStudy(dir, 'learning_rate');
  const fixed = runCli(['tune', file, '--resume']);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.deepEqual(trials(dir, 'tiny-test').map((x) => x.state), ['complete', 'complete']);
});

test('editing the study file while tune runs changes none of its trials: the worker trains what tune resolved', async (t) => {
  const dir = tempDir(t);
  const file = writeRealStudy(dir, 'learning_rate');
  const c = spawn(process.execPath, [cliPath, 'tune', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  while (!/^trial 0 /m.test(out)) await new Promise((r) => setTimeout(r, 20));
  // Mid-run: another max_seq_len and batch size. The running study keeps what it loaded.
  const edited = JSON.parse(readFileSync(file, 'utf8'));
  edited.training.max_seq_len = 8;
  edited.searchSpace.batch_size = { type: 'fixed', value: 4 };
  writeFileSync(file, JSON.stringify(edited, null, 2));
  assert.equal(await new Promise((r) => c.on('exit', r)), 0, out);
  const encoded = readdirSync(join(dir, '.trialbook', 'tiny-test', 'encoded'));
  assert.equal(encoded.length, 1, `one max_seq_len tokenized: ${encoded}`);
  const done = trials(dir, 'tiny-test');
  const maxLens = done.map((x) => (JSON.parse(readFileSync(join(dir, '.trialbook', 'tiny-test', 'trials', String(x.number), 'model', 'tokenizer_config.json'), 'utf8')) as { model_max_length: number }).model_max_length);
  assert.deepEqual(maxLens, [16, 16], 'every trial trained at the max_seq_len tune loaded, none at the edited 8');
  assert.deepEqual(done.map((x) => [x.state, x.params.batch_size]), [['complete', 16], ['complete', 16]]);
  assert.deepEqual(done.map((x) => x.result?.microBatch), [16, 16], 'batch 16 as resolved at the start, not the edited 4');
});
