import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UserError } from './errors';

/**
 * Writes a file atomically: data goes to a temporary sibling, is fsynced, then renamed over the
 * target. A killed process leaves either the old file or the new one, never a torn one.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`${dir}: cannot create the output folder (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_IO');
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS' || code === 'ENOSPC' || code === 'EPERM') {
      throw new UserError(`${path}: cannot write (${code}${code === 'ENOSPC' ? ': disk full' : ''}); nothing was changed`, 'E_IO');
    }
    throw e;
  }
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
