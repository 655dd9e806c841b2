/**
 * `trialbook worker` as real child processes sharing one study in a real (throwaway) PostgreSQL
 * cluster, on the tests' cheap objective (testing/cli.ts): exact budget
 * with 4 workers, a SIGKILLed worker's trial re-run by another, the database restarted
 * mid-study, two studies apart, a wrong password, migrate there and back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runTestCli, tempDir } from '../helpers';
import { replay } from '../../src/store/replay';
import type { StoredTrial, TrialEvent } from '../../src/store/types';
import { NO_POSTGRES, postgresInstalled, startCluster, type TestCluster } from '../store/postgres-cluster';
import { quadraticEnv, spawnCli, studyEvents, writeStudyFile } from './worker-fixtures';

const writeStudy = (dir: string, name: string, maxTrials: number, extra: Record<string, unknown> = {}): string => writeStudyFile(dir, name, { epochs: 3, maxTrials, extra });

const env = quadraticEnv;

interface Worker {
  lines: () => Array<Record<string, unknown>>;
  stderr: () => string;
  waitFor(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined>;
  exit: Promise<number | null>;
  kill(sig: NodeJS.Signals): void;
}

function startWorker(args: string[], e: NodeJS.ProcessEnv): Worker {
  const c = spawnCli(['worker', ...args, '--json'], e);
  const exit = c.exit.then(({ code, signal }) => code ?? (signal ? -1 : null));
  let exited = false;
  void exit.then(() => (exited = true));
  const { lines } = c;
  return {
    lines,
    stderr: c.stderr,
    async waitFor(pred) {
      for (;;) {
        const hit = lines().find(pred);
        if (hit || exited) return hit;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    exit,
    kill: c.kill,
  };
}

const summary = (w: Worker): Record<string, unknown> => w.lines().find((l) => l.type === 'summary') ?? {};

describe('trialbook worker on PostgreSQL', { skip: postgresInstalled() ? false : NO_POSTGRES }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.stop());

  const studyRows = (url: string, name: string): Promise<{ events: TrialEvent[]; trials: StoredTrial[] }> => studyEvents(cluster, url, name);

  function assertExactBudget(events: TrialEvent[], trials: StoredTrial[], budget: number, note = ''): void {
    assert.deepEqual(trials.map((t) => t.number), [...Array(budget).keys()], `${note}trial numbers 0..${budget - 1}: none lost, none extra`);
    assert.ok(trials.every((t) => t.state === 'complete'), `${note}every trial complete: ${JSON.stringify(trials.filter((t) => t.state !== 'complete').map((t) => [t.number, t.state, t.error]))}`);
    const created = events.filter((e) => e.type === 'created').map((e) => e.trial);
    assert.equal(new Set(created).size, created.length, `${note}no trial number created twice`);
    const finished = events.filter((e) => e.type === 'finished').map((e) => e.trial);
    assert.equal(new Set(finished).size, finished.length, `${note}no trial finished twice`);
  }

  test('4 workers reach exactly the trial budget: no duplicate, no lost trial, all of them worked', async (t) => {
    const dir = tempDir(t);
    const url = await cluster.freshDatabase();
    const file = writeStudy(dir, 'four', 24);
    const workers = Array.from({ length: 4 }, () => startWorker([file, '--storage', url], env(40)));
    const codes = await Promise.all(workers.map((w) => w.exit));
    assert.deepEqual(codes, [0, 0, 0, 0], workers.map((w) => w.stderr()).join('\n'));
    const { events, trials } = await studyRows(url, 'four');
    assertExactBudget(events, trials, 24);
    assert.ok(trials.every((t) => t.attempts === 1), 'each trial ran once');
    const ran = workers.map((w) => summary(w).ran as number);
    assert.equal(ran.reduce((a, b) => a + b, 0), 24, `trials per worker ${ran}`);
    assert.ok(ran.filter((n) => n > 0).length >= 2, `the work was shared: ${ran}`);
    const claimed = workers.flatMap((w) => w.lines().filter((l) => l.type === 'trial-started').map((l) => l.trial as number));
    assert.deepEqual(claimed.sort((a, b) => a - b), [...Array(24).keys()], 'each trial claimed by exactly one worker');
    // The same study read through the ordinary report, attached by the study file's storage.
    writeStudy(dir, 'four', 24, { storage: url });
    const report = runCli(['report', file, '--format', 'json']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal((JSON.parse(report.stdout) as { trials: unknown[] }).trials.length, 24);
    assert.ok(!report.stdout.includes('trialbook-test-pw'), 'no password in the report');
  });

  test('a worker SIGKILLed mid-trial: its trial is marked heartbeat lost and re-run by another worker', async (t) => {
    const dir = tempDir(t);
    const url = await cluster.freshDatabase();
    const file = writeStudy(dir, 'kill', 5);
    const args = [file, '--storage', url, '--heartbeat-timeout', '1.5'];
    const victim = startWorker([...args, '--id', 'victim'], env(250));
    const claim = await victim.waitFor((l) => l.type === 'metric');
    assert.ok(claim, `victim ran a trial: ${victim.stderr()}`);
    const trial = claim.trial as number;
    const survivor = startWorker([...args, '--id', 'survivor'], env(250));
    victim.kill('SIGKILL');
    assert.equal(await survivor.exit, 0, survivor.stderr());
    const { events, trials } = await studyRows(url, 'kill');
    assertExactBudget(events, trials, 5);
    const lost = trials.find((x) => x.number === trial)!;
    assert.equal(lost.failures?.[0]?.reason, 'heartbeat lost', JSON.stringify(lost));
    assert.match(lost.failures?.[0]?.cause ?? '', /worker victim sent no heartbeat/);
    assert.equal(lost.attempts, 2);
    assert.equal(lost.worker, 'survivor');
    assert.equal(typeof lost.result?.resumedFromEpoch, 'number', 'same machine: the re-run continued from the epoch checkpoint');
    assert.ok(survivor.lines().some((l) => l.type === 'recovered' && (l.trials as number[]).includes(trial)));
  });

  test('a lost machine does not use up a retry: with max_retries_per_trial 0 the SIGKILLed worker\'s trial is still re-run', async (t) => {
    const dir = tempDir(t);
    const url = await cluster.freshDatabase();
    const file = writeStudy(dir, 'lost', 3, { budget: { maxTrials: 3, max_retries_per_trial: 0 } });
    const args = [file, '--storage', url, '--heartbeat-timeout', '1.5'];
    const victim = startWorker([...args, '--id', 'victim'], env(250));
    const claim = await victim.waitFor((l) => l.type === 'metric');
    assert.ok(claim, `victim ran a trial: ${victim.stderr()}`);
    const survivor = startWorker([...args, '--id', 'survivor'], env(50));
    victim.kill('SIGKILL');
    assert.equal(await survivor.exit, 0, survivor.stderr());
    const { events, trials } = await studyRows(url, 'lost');
    assertExactBudget(events, trials, 3);
    const lost = trials.find((x) => x.number === claim.trial)!;
    assert.deepEqual([lost.failures?.map((f) => f.reason), lost.attempts, lost.worker], [['heartbeat lost'], 2, 'survivor']);
  });

  test('failure counting is the same local and shared: tune and seqlen stop after the same trials, with the same advice', async (t) => {
    const url = await cluster.freshDatabase();
    const failing = { ...env(1), TRIALBOOK_TEST_FAIL: 'error' };
    const budget = { budget: { maxTrials: 10, max_retries_per_trial: 1, max_consecutive_failed_trials: 3 } };
    const runs: Record<string, { code: number; stderr: string; trials: StoredTrial[] }> = {};
    for (const where of ['local', 'shared'] as const) {
      for (const command of ['tune', 'seqlen'] as const) {
        const dir = tempDir(t);
        const name = `${command}_${where}`;
        const file = writeStudy(dir, name, 10, budget);
        const r = runTestCli([command, file, ...(command === 'seqlen' ? ['--lengths', '32,64', '--repeats', '3'] : []), ...(where === 'shared' ? ['--storage', url] : [])], { env: failing });
        const journal = join(dir, '.trialbook', name, 'journal.jsonl');
        const trials = where === 'shared' ? (await studyRows(url, name)).trials : replay(readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrialEvent));
        runs[`${command} ${where}`] = { code: r.code, stderr: r.stderr, trials };
      }
    }
    for (const [what, r] of Object.entries(runs)) {
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /study stopped: 3 trials in a row failed \(error, error, error; last: injected failure\)\. What to change: read the error of the last failed trial/, what);
      assert.deepEqual(r.trials.map((x) => [x.state, x.attempts]), [['failed', 2], ['failed', 2], ['failed', 2]], `${what}: only failures for good count, each after its retry`);
    }
  });

  test('the database restarts mid-study: the workers retry and finish the exact budget', async (t) => {
    const dir = tempDir(t);
    const url = await cluster.freshDatabase();
    const file = writeStudy(dir, 'restart', 16);
    const workers = Array.from({ length: 3 }, () => startWorker([file, '--storage', url, '--heartbeat-timeout', '5'], env(60)));
    await workers[0]!.waitFor((l) => l.type === 'trial-finished');
    cluster.restart();
    const codes = await Promise.all(workers.map((w) => w.exit));
    const stderr = workers.map((w) => w.stderr()).join('\n');
    assert.deepEqual(codes, [0, 0, 0], stderr);
    assert.match(stderr, /PostgreSQL at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/tb_test_\w+ unreachable while .*retrying in/, 'the retry is reported');
    assert.ok(!stderr.includes('trialbook-test-pw'), 'no password in the warnings');
    const { events, trials } = await studyRows(url, 'restart');
    assertExactBudget(events, trials, 16);
  });

  test('two studies in one database, workers running at once: they stay apart', async (t) => {
    const dir = tempDir(t);
    const url = await cluster.freshDatabase();
    const a = writeStudy(dir, 'alpha', 6);
    const b = writeStudy(dir, 'beta', 4, { searchSpace: { dropout_rate: { type: 'float', low: 0, high: 0.5 } } });
    const ws = [startWorker([a, '--storage', url], env(20)), startWorker([b, '--storage', url], env(20)), startWorker([a, '--storage', url], env(20))];
    assert.deepEqual(await Promise.all(ws.map((w) => w.exit)), [0, 0, 0]);
    const alpha = await studyRows(url, 'alpha');
    const beta = await studyRows(url, 'beta');
    assertExactBudget(alpha.events, alpha.trials, 6, 'alpha: ');
    assertExactBudget(beta.events, beta.trials, 4, 'beta: ');
    assert.ok(alpha.trials.every((x) => 'learning_rate' in x.params));
    assert.ok(beta.trials.every((x) => !('learning_rate' in x.params)));
  });

  test('a wrong password: one clear line, exit 2, without the password', async (t) => {
    const dir = tempDir(t);
    const file = writeStudy(dir, 'pw', 2);
    const bad = new URL(cluster.url);
    bad.password = 'Wr0ng-s3cret';
    const r = runTestCli(['worker', file, '--storage', bad.toString()], { env: env(10) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^trialbook: cannot connect to PostgreSQL at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/trialbook: password authentication failed for user "trialbook" — wrong user name or password/m);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes('Wr0ng-s3cret'));
    const local = runTestCli(['worker', file], { env: env(10) });
    assert.equal(local.code, 2);
    assert.match(local.stderr, /a worker needs a shared PostgreSQL study: pass --storage/);
  });

  test('migrate: a local journal study into PostgreSQL and back, same trials both ways', async (t) => {
    const dir = tempDir(t);
    const url = await cluster.freshDatabase();
    const file = writeStudy(dir, 'moving', 4);
    const tuned = runTestCli(['tune', file], { env: env(5) });
    assert.equal(tuned.code, 0, tuned.stderr);
    const journalPath = join(dir, '.trialbook', 'moving', 'journal.jsonl');
    const local = replay(readFileSync(journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrialEvent));
    const up = runCli(['migrate', '--study', file, '--to', url]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /copied study moving: 4 trials \(4 complete\), \d+ events .* to postgresql:\/\/trialbook:\*\*\*@/);
    assert.deepEqual((await studyRows(url, 'moving')).trials, local);
    const again = runCli(['migrate', '--study', file, '--to', url]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already has 4 trials there; nothing copied/);
    // More trials in the database by a worker, then back into a fresh local folder.
    const more = runTestCli(['worker', file, '--storage', url, '--n-trials', '6'], { env: env(5) });
    assert.equal(more.code, 0, more.stderr);
    const other = tempDir(t);
    const file2 = writeStudy(other, 'moving', 6);
    const down = runCli(['migrate', '--study', file2, '--from', url, '--to-journal']);
    assert.equal(down.code, 0, down.stderr);
    const back = replay(readFileSync(join(other, '.trialbook', 'moving', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TrialEvent));
    assert.deepEqual(back, (await studyRows(url, 'moving')).trials);
    assert.equal(back.length, 6);
    assert.ok(existsSync(join(other, '.trialbook', 'moving', 'journal.jsonl')));
    const resumed = runTestCli(['tune', file2, '--resume', '--n-trials', '7'], { env: env(5) });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /study moving: 7 trials \(7 complete/);
  });
});
