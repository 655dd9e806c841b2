/**
 * `trialbook tune` as a real child process on the hidden cheap objective
 * (testing/cli.ts: the quadratic objective): SIGKILL at random points and resume, refusal without
 * --resume, the lock, Ctrl-C, the failure policy, a torn journal line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, runCli, runTestCli, tempDir, testCliPath, writeStudyFile } from '../helpers';
import { Rng } from '../../src/core/rng';
import { replay } from '../../src/store/replay';
import type { StoredTrial, TrialEvent } from '../../src/store/types';

function writeStudy(dir: string, budget: Record<string, unknown> = {}, tuner: Record<string, unknown> = { type: 'random' }): string {
  const searchSpace = { learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true }, dropout_rate: { type: 'float', low: 0, high: 0.5 }, batch_size: { type: 'choice', values: [32, 64, 128] } };
  return writeStudyFile(dir, { searchSpace, tuner, training: { epochs: 3 }, budget });
}

const journalPath = (dir: string, study = 'demo'): string => join(dir, '.trialbook', study, 'journal.jsonl');

function journal(dir: string, study = 'demo'): { events: TrialEvent[]; trials: StoredTrial[] } {
  const text = existsSync(journalPath(dir, study)) ? readFileSync(journalPath(dir, study), 'utf8') : '';
  const events = text.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as TrialEvent];
    } catch {
      return []; // a torn last line
    }
  });
  return { events, trials: replay(events) };
}

function envBase(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return env(extra);
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, TRIALBOOK_TEST_EPOCH_MS: '30', ...extra };
}

interface Child {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  waitFor(re: RegExp, from?: number): Promise<void>;
  exit: Promise<number | null>;
  kill(sig: NodeJS.Signals): void;
}

function start(args: string[], e: NodeJS.ProcessEnv, cli = testCliPath): Child {
  const c = spawn(process.execPath, [cli, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  c.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  });
  c.stderr.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => c.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  const waitFor = async (re: RegExp, from = 0): Promise<void> => {
    let done = false;
    void exit.then(() => (done = true));
    while (!re.test(out.slice(from)) && !done) await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 20)));
  };
  return { pid: c.pid!, stdout: () => out, stderr: () => err, waitFor, exit, kill: (s) => c.kill(s) };
}

async function killAndResume(t: { after: (fn: () => void) => void }, tuner: Record<string, unknown>, total: number, epochMs: string): Promise<StoredTrial[]> {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 12 }, tuner);
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => envBase({ TRIALBOOK_TEST_EPOCH_MS: epochMs, ...extra });
  const seed = Number(process.env.TB_KILL_SEED ?? Date.now() % 100000);
  const rng = new Rng(seed);
  const note = `kill seed ${seed} (rerun with TB_KILL_SEED=${seed})`;
  const kept = new Map<number, number>();
  const checkKept = (): void => {
    const { trials } = journal(dir);
    for (const [n, v] of kept) assert.equal(trials.find((x) => x.number === n)?.value, v, `${note}: trial ${n}'s value was lost or changed`);
    for (const x of trials) if (x.state === 'complete') kept.set(x.number, x.value!);
  };
  // Where to kill: mid-trial, after an epoch checkpoint, anywhere (startup too), right at a finish.
  const plans: Array<(c: Child) => Promise<void>> = [
    async (c) => c.waitFor(/^trial 1 \(/m),
    async (c) => c.waitFor(/^ {2}trial \d+ epoch 1:/m, c.stdout().length),
    async () => new Promise((r) => setTimeout(r, 100 + rng.int(600))),
    async (c) => c.waitFor(/complete: val_loss/m, c.stdout().length),
    async () => new Promise((r) => setTimeout(r, 100 + rng.int(600))),
  ];
  let stderrAll = '';
  for (let i = 0; i < plans.length; i++) {
    // Some runs use two parallel trials, so a kill can orphan two at once.
    const c = start(['tune', file, ...(i === 0 ? [] : ['--resume']), ...(i % 2 ? ['--parallel', '2'] : [])], env());
    await plans[i](c);
    await new Promise((r) => setTimeout(r, rng.int(40)));
    c.kill('SIGKILL');
    await c.exit;
    stderrAll += c.stderr();
    checkKept();
  }
  const last = runTestCli(['tune', file, '--resume'], { env: env() });
  assert.equal(last.code, 0, `${note}\n${last.stderr}`);
  stderrAll += last.stderr;
  checkKept();
  const { events, trials } = journal(dir);
  assert.deepEqual(trials.map((x) => x.number), [...Array(total).keys()], `${note}: trial numbers 0..${total - 1}, none lost`);
  assert.ok(trials.every((x) => x.state === 'complete'), `${note}: all complete`);
  const created = events.filter((e) => e.type === 'created').map((e) => e.trial);
  assert.equal(new Set(created).size, created.length, `${note}: no trial created twice`);
  assert.ok(trials.some((x) => x.failures?.some((f) => f.reason === 'interrupted')), `${note}: a kill landed mid-trial`);
  assert.ok(trials.some((x) => typeof x.result?.resumedFromEpoch === 'number'), `${note}: an interrupted trial resumed from its checkpoint`);
  assert.match(stderrAll, /taking over a stale lock \(process \d+ is no longer running\)/);
  assert.match(last.stdout, new RegExp(`study demo: ${total} trials \\(${total} complete, 0 failed, 0 pruned\\)`));
  assert.match(last.stdout, /^best: trial \d+, val_loss \d\.\d{4}$/m);
  return trials;
}

test('SIGKILL at random points, resume each time: same final count, no number lost or duplicated, every value kept', async (t) => {
  await killAndResume(t, { type: 'random' }, 12, '30');
});

test('Hyperband killed and resumed continues its brackets: exactly the planned 22 runs (R=9, η=3)', async (t) => {
  const trials = await killAndResume(t, { type: 'hyperband', max_epochs: 9, factor: 3 }, 22, '15');
  const promoted = trials.filter((x) => x.resumeFrom !== undefined);
  assert.equal(promoted.length, 5, 'rounds after the first continue an earlier trial (s=2: 3 + 1, s=1: 1)');
  const epochs = trials.map((x) => x.epochs).sort((a, b) => a! - b!);
  assert.deepEqual(epochs, [...Array(9).fill(1), ...Array(8).fill(3), ...Array(5).fill(9)]);
});

test('an existing study is not extended without --resume, and --fresh archives it', (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 2 });
  assert.equal(runTestCli(['tune', file, '--json'], { env: env({ TRIALBOOK_TEST_EPOCH_MS: '1' }) }).code, 0);
  const r = runTestCli(['tune', file], { env: env() });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /journal\.jsonl: study "demo" already has 2 trials \(2 complete\)/);
  assert.match(r.stderr, /--resume/);
  assert.match(r.stderr, /--fresh/);
  const again = runTestCli(['tune', file, '--resume'], { env: env() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /2 trials \(2 complete/);
  assert.doesNotMatch(again.stdout, /^trial \d+ \(/m, 'a finished study runs nothing on --resume');
  const fresh = runTestCli(['tune', file, '--fresh', '--n-trials', '1'], { env: env({ TRIALBOOK_TEST_EPOCH_MS: '1' }) });
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /moved the old journal and checkpoints to .*archive-/);
  assert.equal(journal(dir).trials.length, 1);
  const archived = readdirSync(join(dir, '.trialbook', 'demo')).filter((n) => n.startsWith('archive-'));
  assert.equal(archived.length, 1);
  assert.equal(replay(readFileSync(join(dir, '.trialbook', 'demo', archived[0], 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))).length, 2);
});

test('a second tune on the same study is refused naming the holder; Ctrl-C cancels the running trial, resume re-runs it', async (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 2 });
  const first = start(['tune', file], env({ TRIALBOOK_TEST_EPOCH_MS: '300' }));
  t.after(() => first.kill('SIGKILL'));
  await first.waitFor(/^trial 0 \(/m);
  const second = runTestCli(['tune', file, '--resume'], { env: env() });
  assert.equal(second.code, 2);
  assert.match(second.stderr, new RegExp(`study is locked by pid ${first.pid} on host .+ since \\d{4}-\\d\\d-\\d\\dT`));
  assert.match(second.stderr, /rm ".*journal\.lock"/);
  first.kill('SIGINT');
  assert.equal(await first.exit, 130);
  assert.match(first.stdout(), /trial 0 cancelled/);
  assert.equal(existsSync(join(dir, '.trialbook', 'demo', 'journal.lock')), false, 'lock released');
  const j = journal(dir).trials;
  assert.equal(j.length, 1);
  assert.equal(j[0].failures?.[0].reason, 'cancelled');
  const resumed = runTestCli(['tune', file, '--resume'], { env: env({ TRIALBOOK_TEST_EPOCH_MS: '1' }) });
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = journal(dir).trials;
  assert.deepEqual(after.map((x) => [x.number, x.state]), [[0, 'complete'], [1, 'complete']]);
  assert.equal(after[0].attempts, 2);
});

test('failure policy: retries per trial, then a stop after consecutive failures with advice', (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 10, max_retries_per_trial: 1, max_consecutive_failed_trials: 3 });
  const r = runTestCli(['tune', file], { env: env({ TRIALBOOK_TEST_FAIL: 'nan', TRIALBOOK_TEST_EPOCH_MS: '1' }) });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /study stopped: 3 trials in a row failed \(nan, nan, nan/);
  assert.match(r.stderr, /lower the upper bound of searchSpace\.learning_rate/);
  assert.match(r.stdout, /trial 0 failed \(nan\): loss became NaN at epoch 1 .* — will retry/);
  const trials = journal(dir).trials;
  assert.equal(trials.length, 3);
  for (const x of trials) {
    assert.equal(x.state, 'failed');
    assert.deepEqual(x.failures?.map((f) => f.reason), ['nan', 'nan']);
    assert.equal(typeof x.params.learning_rate, 'number');
  }
});

test('a torn journal line is reported, cut, and the study continues', (t) => {
  const dir = tempDir(t);
  const file = writeStudy(dir, { maxTrials: 2 });
  assert.equal(runTestCli(['tune', file], { env: env({ TRIALBOOK_TEST_EPOCH_MS: '1' }) }).code, 0);
  const lines = readFileSync(journalPath(dir), 'utf8').split('\n').length;
  appendFileSync(journalPath(dir), '{"type":"created","trial":2,"par');
  const r = runTestCli(['tune', file, '--resume', '--n-trials', '3', '--json'], { env: env({ TRIALBOOK_TEST_EPOCH_MS: '1' }) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`journal\\.jsonl:${lines}: last line is incomplete`));
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(out.at(-1).type, 'summary');
  assert.equal(out.at(-1).complete, 3);
  assert.ok(out.some((e) => e.type === 'metric' && e.trial === 2));
  assert.deepEqual(journal(dir).trials.map((x) => x.state), ['complete', 'complete', 'complete']);
  const rep = runCli(['report', file, '--format', 'json']);
  assert.equal(rep.code, 0, rep.stderr);
  assert.equal(JSON.parse(rep.stdout).trials.length, 3);
});

/** A small generated data set and a `tiny` model study that really trains in the worker. */
function writeRealStudy(dir: string): string {
  const pos = ['정말 좋다', '최고 영화', '재미 있다', '감동 최고'];
  const neg = ['너무 별로', '지루 하다', '최악 영화', '시간 아깝다'];
  const rows = ['text\tlabel'];
  for (let i = 0; i < 100; i++) rows.push(`${(i % 2 ? neg : pos)[i % 4]} ${i}\t${i % 2 ? 'neg' : 'pos'}`);
  writeFileSync(join(dir, 'data.tsv'), rows.join('\n') + '\n');
  const chars = [...new Set([...pos, ...neg, '0123456789'].join('').replace(/ /g, ''))].sort();
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...chars, ...chars.map((c) => `##${c}`)].join('\n') + '\n');
  const file = join(dir, 'real.trialbook.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'real',
      data: { file: 'data.tsv', textColumn: 'text', labelColumn: 'label', ratios: [0.7, 0.15, 0.15] },
      tokenizer: { vocab: 'vocab.txt' },
      model: 'tiny',
      training: { epochs: 2, max_seq_len: 16, logEverySteps: 4 },
      searchSpace: { learning_rate: { type: 'float', low: 5e-4, high: 2e-3, log: true }, batch_size: { type: 'fixed', value: 8 } },
      tuner: { type: 'random' },
      budget: { maxTrials: 1 },
    }),
  );
  return file;
}

/** The best value of the real study run without interruption, to compare a resumed run with. */
function uninterruptedValue(t: { after: (fn: () => void) => void }): number {
  const a = runCli(['tune', writeRealStudy(tempDir(t)), '--json'], { env: { ...process.env } });
  assert.equal(a.code, 0, a.stderr);
  return JSON.parse(a.stdout.trim().split('\n').at(-1)!).best.value as number;
}

test('real worker: a trial killed mid-study resumes from its epoch checkpoint to the same result; report --test scores the best model', async (t) => {
  const expected = uninterruptedValue(t);
  const dir = tempDir(t);
  const file = writeRealStudy(dir);
  const c = start(['tune', file], { ...process.env }, cliPath);
  t.after(() => c.kill('SIGKILL'));
  const ckpt = join(dir, '.trialbook', 'real', 'trials', '0', 'checkpoint', 'checkpoint.json');
  while (!existsSync(ckpt)) {
    assert.notEqual(await Promise.race([c.exit, new Promise((r) => setTimeout(() => r('running'), 20))]), 0, 'the run ended before its first checkpoint');
  }
  c.kill('SIGKILL');
  await c.exit;
  const r = runCli(['tune', file, '--resume'], { env: { ...process.env } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /re-running from the last checkpoint/);
  assert.match(r.stdout, /trial 0 \(1\/1\) attempt 2 resumed/);
  const [trial] = journal(dir, 'real').trials;
  assert.equal(trial.state, 'complete');
  assert.equal(trial.value, expected, 'resuming from the checkpoint gives what an uninterrupted run gives');
  const rep = runCli(['report', file, '--test', '--format', 'json']);
  assert.equal(rep.code, 0, rep.stderr);
  const test = JSON.parse(rep.stdout).test;
  assert.equal(test.count, 15);
  assert.ok(test.accuracy >= 0 && test.accuracy <= 1 && Number.isFinite(test.loss));
});

test('real worker: tune and its worker killed together right after a checkpoint\'s tensors: --resume ends where an uninterrupted run ends', async (t) => {
  const expected = uninterruptedValue(t);
  const dir = tempDir(t);
  const file = writeRealStudy(dir);
  const killed = runCli(['tune', file], { env: { ...process.env, NODE_OPTIONS: `--require ${join(__dirname, 'fixtures', 'kill-after-tensors.cjs')}`, TB_KILL_AFTER_TENSORS: '2' } });
  assert.equal(killed.code, -1, `killed by the hook, not finished: ${killed.stderr}`);
  const r = runCli(['tune', file, '--resume'], { env: { ...process.env } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /trial 0 \(1\/1\) attempt 2 resumed/);
  const [trial] = journal(dir, 'real').trials;
  assert.equal(trial.state, 'complete');
  assert.equal(trial.value, expected, 'the same result as the uninterrupted run: epoch 2 trained once, from the whole epoch-1 checkpoint');
});
