/**
 * The journal backend: an append-only JSON-lines file. It can only append one event (one line,
 * one write, fsync) and read the events written since a byte offset. State lives in the replay
 * (./replay.ts), never here, so durability is this file's only job.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/errors';
import { TrialEvent } from './events';

export interface ReadBatch {
  events: TrialEvent[];
  /** Offset just after the last complete line read. */
  offset: number;
  /** Lines 1-based as in an editor, so a warning can be followed to the spot. */
  lines: number;
  warnings: string[];
  /** Byte offset where an unterminated last line starts, if there is one. */
  tornAt?: number;
}

export class JournalFile {
  private fd: number | undefined;
  /** The last event read had no newline: the next append starts one first. */
  private unterminated = false;

  constructor(readonly path: string) {}

  exists(): boolean {
    return existsSync(this.path);
  }

  /**
   * Reads complete lines from `offset`. A last line without its newline is a torn write
   * (killed mid-append), or one being written right now by another process: skipped, reported.
   */
  read(offset: number, firstLine: number): ReadBatch {
    const out: ReadBatch = { events: [], offset, lines: firstLine - 1, warnings: [] };
    if (!this.exists()) return out;
    const fd = openSync(this.path, 'r');
    let buf: Buffer;
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new UserError(`${this.path}: is a folder where the study journal belongs; move it away`, 'E_IO');
      const size = st.size;
      if (size <= offset) return out;
      buf = Buffer.alloc(size - offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    let start = 0;
    let line = firstLine;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) {
        // A whole event without its newline (the file was cut just there) is an event, not a torn line.
        const ev = parseEvent(buf.subarray(start).toString('utf8').trim());
        if (ev.ok) {
          out.events.push(ev.event);
          out.offset = offset + buf.length;
          out.lines = line;
          this.unterminated = true;
          break;
        }
        out.tornAt = offset + start;
        out.warnings.push(`${this.path}:${line}: last line is incomplete (a write was interrupted); skipped it — every line before it is intact`);
        break;
      }
      const text = buf.subarray(start, nl).toString('utf8').trim();
      if (text) {
        const ev = parseEvent(text);
        if (ev.ok) out.events.push(ev.event);
        else out.warnings.push(`${this.path}:${line}: skipped an unreadable event (${ev.reason})`);
      }
      start = nl + 1;
      out.offset = offset + start;
      out.lines = line;
      line++;
    }
    return out;
  }

  /** Cuts a torn tail away so the next append starts on a fresh line and the file stays valid. */
  truncateTo(offset: number): void {
    const fd = openSync(this.path, 'r+');
    try {
      ftruncateSync(fd, offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** One event → one line, written with a single write and fsynced before returning. */
  append(event: TrialEvent): void {
    if (this.fd === undefined) {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        this.fd = openSync(this.path, 'a');
      } catch (e) {
        throw new UserError(`${this.path}: cannot open the study journal for writing (${(e as NodeJS.ErrnoException).code ?? e})`, 'E_IO');
      }
    }
    const buf = Buffer.from(`${this.unterminated ? '\n' : ''}${JSON.stringify(event)}\n`, 'utf8');
    try {
      const n = writeSync(this.fd, buf);
      if (n !== buf.length) throw new UserError(`${this.path}: short write (${n} of ${buf.length} bytes; disk full?) — the next start reports and cuts the torn line`, 'E_IO');
      fsyncSync(this.fd);
      this.unterminated = false;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'EIO') {
        throw new UserError(`${this.path}: cannot append to the study journal (${code}${code === 'ENOSPC' ? ': disk full' : ''}); every event before this one is safe`, 'E_IO');
      }
      throw e;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function parseEvent(text: string): { ok: true; event: TrialEvent } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const r = TrialEvent.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, reason: `${i?.path.join('.') || 'event'}: ${i?.message}` };
  }
  return { ok: true, event: r.data };
}
