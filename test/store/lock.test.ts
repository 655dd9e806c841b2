import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { repoRoot, tempDir, testCliPath, writeStudyFile } from '../helpers';
import { acquireLock } from '../../src/store/lock';
import { JournalStore } from '../../src/store/journal';

test('a second process is refused with a message naming the holder; the lock goes when the holder exits', async (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'journal.lock');
  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', '-e', `const { acquireLock } = require(${JSON.stringify(join(repoRoot, 'src/store/lock.ts'))}); acquireLock(${JSON.stringify(lock)}, { command: 'trialbook tune demo' }); console.log('locked'); setTimeout(() => {}, 60000);`],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d) => String(d).includes('locked') && resolve());
    holder.on('exit', () => reject(new Error('holder exited early')));
  });
  assert.throws(
    () => new JournalStore(dir, { onWarning: () => {} }),
    (e: Error) => {
      assert.match(e.message, new RegExp(`locked by pid ${holder.pid} on host ${hostname()} since \\d{4}-`));
      assert.match(e.message, /trialbook tune demo/);
      assert.match(e.message, /rm ".*journal\.lock"/);
      return true;
    },
  );
  holder.kill('SIGTERM');
  await new Promise((r) => holder.on('exit', r));
  assert.equal(existsSync(lock), false, 'released on SIGTERM');
  const s = new JournalStore(dir, { onWarning: () => {}, lockSignals: false });
  await s.close();
  assert.equal(existsSync(lock), false, 'released on close');
});

test('a stale lock (holder dead on this host) is taken over with a warning', (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'journal.lock');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(lock, JSON.stringify({ pid: dead, hostname: hostname(), started: '2020-01-01T00:00:00Z', command: 'trialbook tune x' }));
  const warnings: string[] = [];
  const l = acquireLock(lock, { onWarning: (w) => warnings.push(w), signals: false });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`stale lock \\(process ${dead} is no longer running\\)`));
  assert.equal(JSON.parse(readFileSync(lock, 'utf8')).pid, process.pid);
  l.release();
  assert.equal(existsSync(lock), false);
});

test('a lock held on another host is never taken over', (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'journal.lock');
  writeFileSync(lock, JSON.stringify({ pid: 1, hostname: 'other-machine', started: '2020-01-01T00:00:00Z', command: 'trialbook tune x' }));
  assert.throws(() => acquireLock(lock, { signals: false }), /locked by pid 1 on host other-machine/);
});

test('a lock whose pid is alive but belongs to a newer process (pid reused) is stale', (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'journal.lock');
  // Our own parent is alive; a start time that is not its own marks the pid as reused.
  writeFileSync(lock, JSON.stringify({ pid: process.ppid, hostname: hostname(), started: '2020-01-01T00:00:00Z', command: 'trialbook tune x', startTicks: '1' }));
  const warnings: string[] = [];
  const l = acquireLock(lock, { onWarning: (w) => warnings.push(w), signals: false });
  assert.match(warnings[0], /pid was reused/);
  l.release();
});

test('a lock file holding something else is taken over at once, and the warning says what it held (not "empty")', (t) => {
  const dir = tempDir(t);
  const lock = join(dir, 'journal.lock');
  writeFileSync(lock, 'garbage\n');
  const warnings: string[] = [];
  const l = acquireLock(lock, { onWarning: (w) => warnings.push(w), signals: false });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /taking over a stale lock \(it is not a readable lock \(the lock file holds 8 bytes that are not a trialbook lock: "garbage\?"\)\)/);
  assert.doesNotMatch(warnings[0], /empty/);
  l.release();
});

function waitForFile(path: string, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (existsSync(path)) resolve();
      else if (Date.now() > until) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

test('two tune --resume over one stale lock: one takes it over, the other is refused (the first held between "stale" and its delete)', async (t) => {
  const dir = tempDir(t);
  const searchSpace = { learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true } };
  const file = writeStudyFile(dir, { searchSpace, training: { epochs: 3 }, budget: { maxTrials: 8 } });
  const state = join(dir, '.trialbook', 'demo');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'journal.lock'), JSON.stringify({ pid: dead, hostname: hostname(), started: '2020-01-01T00:00:00Z', command: 'trialbook tune demo' }));
  const env = { ...process.env, TRIALBOOK_TEST_EPOCH_MS: '150' };
  const mark = join(dir, 'a-judged-stale');
  const go = join(dir, 'a-may-delete');
  const run = (extra: NodeJS.ProcessEnv) => {
    const c = spawn(process.execPath, [testCliPath, 'tune', file, '--resume'], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
    c.stdout.on('data', (d) => (out.stdout += d));
    c.stderr.on('data', (d) => (out.stderr += d));
    const exit = new Promise<void>((r) => c.on('exit', (code) => ((out.code = code), r())));
    t.after(() => c.kill('SIGKILL'));
    return { out, exit };
  };
  const a = run({ NODE_OPTIONS: `--require ${join(__dirname, 'fixtures', 'delay-lock-unlink.cjs')}`, TB_DELAY_MARK: mark, TB_DELAY_GO: go });
  await waitForFile(mark, 'the first process to judge the lock stale');
  const b = run({});
  // B either refuses or starts training while A is still held; then A goes on.
  const until = Date.now() + 20_000;
  while (b.out.code === undefined && !/^trial 0 \(/m.test(b.out.stdout) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  writeFileSync(go, '');
  await Promise.all([a.exit, b.exit]);
  const ran = [a, b].filter((p) => /^trial \d+ \(/m.test(p.out.stdout));
  assert.equal(ran.length, 1, `exactly one process runs the study\nA: ${a.out.code} ${a.out.stderr}\nB: ${b.out.code} ${b.out.stderr}`);
  const refused = a === ran[0] ? b : a;
  assert.equal(refused.out.code, 2, refused.out.stderr);
  assert.match(refused.out.stderr, /lock/);
  assert.equal(ran[0].out.code, 0, ran[0].out.stderr);
  const created = readFileSync(join(state, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'created').map((e) => e.trial);
  assert.deepEqual(created, [...Array(8).keys()], 'each trial number created once');
});
