import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers';
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
