import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { UserError } from './errors';
import { processAlive } from './process';

/**
 * Writes a file atomically: data goes to a temporary sibling, is fsynced, then renamed over the
 * target. A killed process leaves either the old file or the new one, never a torn one.
 *
 * The target keeps what makes it the user's file: a symlink is written through (its target
 * changes, the link stays), an existing file keeps its mode and owner, and a file with several
 * hard links is rewritten in place so every name still shows the new content. A read-only file
 * or a folder in the target's place is refused. Temporary files that a killed run left beside
 * the target are removed.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const target = followLinks(path);
  const existing = statOrUndefined(target);
  if (existing?.isDirectory()) throw new UserError(`${path}: is a folder; give the name of a file to write`, 'E_IS_DIR');
  if (existing && !writable(target, existing)) throw new UserError(`${path}: the file is read-only; nothing was changed (make it writable to let Trialbook update it)`, 'E_READONLY');
  const dir = dirname(target);
  makeFolder(dir);
  sweepStaleTemps(dir, basename(target));
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    if (existing && existing.nlink > 1) writeInPlace(target, buf);
    else writeAndRename(target, buf, existing);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && IO_CODES.has(code)) throw new UserError(`${path}: cannot write (${code}${code === 'ENOSPC' ? ': disk full' : ''}); nothing was changed`, 'E_IO');
    throw e;
  }
}

/** Errors of the file system (not of Trialbook) a person can act on. */
const IO_CODES = new Set(['EACCES', 'EROFS', 'ENOSPC', 'EDQUOT', 'EPERM', 'EIO', 'EISDIR', 'ENOTDIR', 'EBUSY', 'EFBIG', 'ENAMETOOLONG']);

let tempSerial = 0;

function writeAndRename(target: string, buf: Uint8Array, existing: Stats | undefined): void {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}${tempSerial++ ? `-${tempSerial}` : ''}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    if (existing) keepOwnership(fd, existing);
    writeAll(fd, buf, 0);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Several names share this file, and a rename would leave the others on the old content. Editors
 * write such files in place; so does this: the new bytes over the old, then the length cut.
 */
function writeInPlace(target: string, buf: Uint8Array): void {
  const fd = openSync(target, 'r+');
  try {
    writeAll(fd, buf, 0);
    ftruncateSync(fd, buf.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

function keepOwnership(fd: number, st: Stats): void {
  fchmodSync(fd, st.mode & 0o7777);
  // Only root can give a file away; anyone else writes files they own already.
  if (process.getuid?.() === 0) fchownSync(fd, st.uid, st.gid);
}

/** The file a path finally names, through any chain of symlinks (a dangling one included). */
function followLinks(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return p;
    }
    if (!st.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new UserError(`${path}: too many levels of symbolic links`, 'E_IO');
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** Write permission as the user set it: root may write anything, but a file with no write bit is kept read-only on purpose. */
function writable(p: string, st: Stats): boolean {
  if ((st.mode & 0o222) === 0) return false;
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Creates the output folder; a file where a folder should be is named. */
function makeFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      throw new UserError(`${dir}: cannot create the output folder (${code}): ${firstFileOnPath(dir) ?? 'a file on its path'} is a file, not a folder`, 'E_IO');
    }
    throw new UserError(`${dir}: cannot create the output folder (${code ?? e})`, 'E_IO');
  }
}

function firstFileOnPath(dir: string): string | undefined {
  for (let p = resolve(dir); ; p = dirname(p)) {
    const st = statOrUndefined(p);
    if (st && !st.isDirectory()) return p;
    if (dirname(p) === p) return undefined;
  }
}

/** Temporary files in `dir` (of target `name`, or of any target) whose writer is gone: killed before its rename. */
export function sweepStaleTemps(dir: string, name = ''): void {
  const prefix = `.${name}`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith(prefix) || !e.endsWith('.tmp')) continue;
    const m = (name ? /^\.(\d+)\.\d+(-\d+)?\.tmp$/ : /\.(\d+)\.\d+(-\d+)?\.tmp$/).exec(e.slice(prefix.length));
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(dir, e), { force: true });
  }
}

/**
 * Checks an output path before the work that fills it: not a folder, and no file where one of its
 * folders should be. (`what` names it in messages, e.g. "--out".)
 */
export function assertOutputFile(path: string, what: string): void {
  const target = followLinks(path);
  if (statOrUndefined(target)?.isDirectory()) throw new UserError(`${what} ${path}: is a folder; give the name of a file to write`, 'E_IS_DIR');
  const blocker = firstFileOnPath(dirname(target));
  if (blocker) throw new UserError(`${what} ${path}: cannot create its folder: ${blocker} is a file, not a folder`, 'E_IO');
}

/** Checks that `path` names a readable regular file, with an actionable message otherwise. */
export function assertReadableFile(path: string, what = 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: ${what} not found`, 'E_NOT_FOUND');
  }
  if (st.isDirectory()) throw new UserError(`${path}: is a directory, expected a ${what}`, 'E_IS_DIR');
}
