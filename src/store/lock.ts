/**
 * Exclusive lock on a local study: a lock file created with O_EXCL holding who holds it.
 * Two `trialbook tune` processes on the same study would interleave trial numbers and
 * checkpoints; the second one is refused with a message naming the holder. A lock left behind
 * by a dead process on this host is taken over with a warning.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync, fsyncSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { UserError } from '../core/errors';

export interface LockHolder {
  pid: number;
  hostname: string;
  started: string;
  command: string;
  /** Kernel start time of the holder (Linux), so a reused pid is not mistaken for the holder. */
  startTicks?: string;
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface StudyLock {
  readonly path: string;
  readonly holder: LockHolder;
  release(): void;
}

export interface LockOptions {
  /** Release on SIGINT/SIGTERM and re-raise the signal. Off when the caller stops gracefully itself. */
  signals?: boolean;
  onWarning?(text: string): void;
  /** What the lock file says the holder is doing (default: this process's argv). */
  command?: string;
}

/** Lock files younger than this with unreadable content may be mid-creation: not stale yet. */
const FRESH_MS = 5000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process not yet reaped by its parent (zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.hostname === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function describe(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.hostname} since ${h.started} (${h.command})`;
}

/** Is the lock at `path` abandoned (holder dead on this host, or unreadable and old)? */
function staleReason(path: string, h: LockHolder | undefined): string | undefined {
  if (!h) {
    let age = 0;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      return 'it disappeared';
    }
    return age > FRESH_MS ? 'it is unreadable (the holder died while creating it)' : undefined;
  }
  if (h.hostname === hostname() && h.pid !== process.pid) {
    if (!pidAlive(h.pid)) return `process ${h.pid} is no longer running`;
    const now = startTicks(h.pid);
    if (h.startTicks && now && now !== h.startTicks) return `process ${h.pid} is no longer running (its pid was reused)`;
  }
  return undefined;
}

export function acquireLock(path: string, opts: LockOptions = {}): StudyLock {
  mkdirSync(dirname(path), { recursive: true });
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    started: new Date().toISOString(),
    command: opts.command ?? ['trialbook', ...process.argv.slice(2)].join(' '),
  };
  const ticks = startTicks(process.pid);
  if (ticks) holder.startTicks = ticks;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UserError(`${path}: cannot create the study lock (${(e as NodeJS.ErrnoException).code})`, 'E_IO');
      }
      const other = readHolder(path);
      const stale = staleReason(path, other);
      if (stale && attempt < 3) {
        opts.onWarning?.(`${path}: taking over a stale lock (${stale})${other ? `; it was held by ${describe(other)}` : ''}`);
        rmSync(path, { force: true });
        continue;
      }
      if (!other && attempt < 20) {
        // Being created right now by another process: give it a moment to write its holder.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      const who = other ? describe(other) : 'an unknown process (the lock file is empty)';
      throw new UserError(
        `study is locked by ${who}.\n` +
          `  Another trialbook process is working on this study; wait for it or stop it.\n` +
          `  If that process is gone (e.g. it ran on another machine), remove the lock: rm ${JSON.stringify(path)}`,
        'E_LOCKED',
      );
    }
    writeSync(fd, JSON.stringify(holder) + '\n');
    fsyncSync(fd);
    closeSync(fd);
    break;
  }
  return installRelease(path, holder, opts);
}

function installRelease(path: string, holder: LockHolder, opts: LockOptions): StudyLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (opts.signals !== false) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    // Only remove the file if it is still ours (a stale-lock takeover may have replaced it).
    const now = readHolder(path);
    if (now && now.pid === holder.pid && now.hostname === holder.hostname && now.started === holder.started) {
      rmSync(path, { force: true });
    }
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    release();
    process.kill(process.pid, sig);
  };
  process.on('exit', release);
  if (opts.signals !== false) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { path, holder, release };
}
