/**
 * Exclusive lock on a local study: a lock file created with O_EXCL holding who holds it.
 * Two `trialbook tune` processes on the same study would interleave trial numbers and
 * checkpoints; the second one is refused with a message naming the holder. A lock left behind
 * by a dead process on this host is taken over with a warning.
 *
 * Taking over is where two processes can race: both see the same dead holder, and the slower
 * one's delete would remove the lock the faster one has just created. So a stale lock is only
 * deleted by the process that first creates its claim file (`<lock>.takeover-<id>`, O_EXCL,
 * named after that one lock file's inode and content): the others wait for it, then find the
 * winner's live lock. A claim whose maker died is itself taken over the same way.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors';
import { sha256 } from '../core/hash';
import { processAlive } from '../core/process';

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

/** Lock files younger than this that could still be mid-creation (empty, or JSON cut short) are not stale yet. */
const FRESH_MS = 5000;
const POLL_MS = 50;
/** How long to wait for another process that is taking over the same stale lock. */
const TAKEOVER_WAIT_MS = 2000;

/** One lock file as read at one moment: `id` tells this file apart from any later one at the same path. */
interface SeenLock {
  holder?: LockHolder;
  bytes: Buffer;
  id: string;
  ageMs: number;
}

function readLock(path: string): SeenLock | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UserError(`${path}: is a folder where the study's lock file belongs; remove it`, 'E_IO');
    const bytes = Buffer.alloc(Math.min(st.size, 64 * 1024));
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    const content = bytes.subarray(0, n);
    return { holder: parseHolder(content), bytes: content, id: `${st.ino}-${sha256(content).slice(0, 16)}`, ageMs: Date.now() - st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

function parseHolder(bytes: Buffer): LockHolder | undefined {
  try {
    const h = JSON.parse(bytes.toString('utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.hostname === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function describe(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.hostname} since ${h.started} (${h.command})`;
}

/** What an unreadable lock file holds, in words. */
function describeBytes(bytes: Buffer): string {
  if (bytes.length === 0) return 'the lock file is empty';
  const preview = bytes.subarray(0, 40).toString('utf8').replace(/[^\x20-\x7e]/g, '?');
  return `the lock file holds ${bytes.length} bytes that are not a trialbook lock: "${preview}${bytes.length > 40 ? '…' : ''}"`;
}

/** Could this unreadable file be a lock that its maker is writing right now? (Empty, or JSON cut short.) */
function mayBeMidCreation(seen: SeenLock): boolean {
  return !seen.holder && (seen.bytes.length === 0 || seen.bytes[0] === 0x7b) && seen.ageMs <= FRESH_MS;
}

/** Is this lock abandoned (holder dead on this host, or not a lock at all)? */
function staleReason(seen: SeenLock): string | undefined {
  const h = seen.holder;
  if (!h) return mayBeMidCreation(seen) ? undefined : `it is not a readable lock (${describeBytes(seen.bytes)})`;
  if (h.hostname === hostname() && h.pid !== process.pid) {
    if (!processAlive(h.pid)) return `process ${h.pid} is no longer running`;
    const now = startTicks(h.pid);
    if (h.startTicks && now && now !== h.startTicks) return `process ${h.pid} is no longer running (its pid was reused)`;
  }
  return undefined;
}

function newHolder(opts: LockOptions): LockHolder {
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    started: new Date().toISOString(),
    command: opts.command ?? ['trialbook', ...process.argv.slice(2)].join(' '),
  };
  const ticks = startTicks(process.pid);
  if (ticks) holder.startTicks = ticks;
  return holder;
}

/** Creates the lock file with our holder in it; false when one exists already. */
function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new UserError(`${path}: cannot create the study lock (${code})`, 'E_IO');
  }
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

type Takeover = 'removed' | 'busy';

/** Deletes the stale lock `seen` if this process wins its claim; 'busy' while another process holds the claim. */
function takeOver(path: string, seen: SeenLock, holder: LockHolder, warn: (text: string) => void, reason: string): Takeover {
  const claim = `${path}.takeover-${seen.id}`;
  if (lockFile(claim, holder, () => undefined, 0) !== 'held') return 'busy';
  try {
    // Still the file judged stale? Only the claim's winner deletes it, so it cannot change under us now.
    if (readLock(path)?.id === seen.id) {
      warn(`${path}: taking over a stale lock (${reason})${seen.holder ? `; it was held by ${describe(seen.holder)}` : ''}`);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(claim, { force: true });
  }
  return 'removed';
}

type LockResult = 'held' | { locked: SeenLock } | { busy: true };

/** Takes the lock file at `path`, waiting at most `waitMs` for a takeover or a lock being created. */
function lockFile(path: string, holder: LockHolder, warn: (text: string) => void, waitMs: number): LockResult {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(path, holder)) return 'held';
    const seen = readLock(path);
    if (!seen) continue; // released between our create and our read
    const stale = staleReason(seen);
    let wait: LockResult;
    if (stale) {
      if (takeOver(path, seen, holder, warn, stale) === 'removed') continue;
      wait = { busy: true };
    } else if (mayBeMidCreation(seen)) wait = { locked: seen };
    else return { locked: seen };
    if (Date.now() >= deadline) return wait;
    sleep(POLL_MS);
  }
}

/** Claim files left by processes that died mid-takeover (harmless, but clutter). */
function sweepClaims(path: string): void {
  const prefix = `${basename(path)}.takeover-`;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix)) continue;
    const claim = join(dirname(path), name);
    const seen = readLock(claim);
    if (seen && staleReason(seen)) rmSync(claim, { force: true });
  }
}

/** The process holding the lock at `path`, if one holds it and is alive (for readers, who never take it). */
export function liveHolder(path: string): LockHolder | undefined {
  try {
    const seen = readLock(path);
    return seen?.holder && !staleReason(seen) ? seen.holder : undefined;
  } catch {
    return undefined; // not a lock file at all (a folder): nobody holds it
  }
}

export function acquireLock(path: string, opts: LockOptions = {}): StudyLock {
  mkdirSync(dirname(path), { recursive: true });
  const holder = newHolder(opts);
  const warn = opts.onWarning ?? (() => undefined);
  const r = lockFile(path, holder, warn, Math.max(FRESH_MS, TAKEOVER_WAIT_MS));
  if (r !== 'held') {
    if ('busy' in r) {
      throw new UserError(`${path}: another trialbook process is taking over this study's stale lock right now; it runs the study, so wait for it or stop it`, 'E_LOCKED');
    }
    const who = r.locked.holder ? describe(r.locked.holder) : `an unknown process (${describeBytes(r.locked.bytes)})`;
    throw new UserError(
      `study is locked by ${who}.\n` +
        `  Another trialbook process is working on this study; wait for it or stop it.\n` +
        `  If that process is gone (e.g. it ran on another machine), remove the lock: rm ${JSON.stringify(path)}`,
      'E_LOCKED',
    );
  }
  sweepClaims(path);
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
    const now = readLock(path)?.holder;
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
