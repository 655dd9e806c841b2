/**
 * The local study store: `<studyStateDir>/journal.jsonl` replayed into trials. A writer holds
 * the study lock (./lock.ts), so it is the only process appending and can number trials from
 * its own replay; readers (report, the editor) open it read-only and pick up new lines.
 */
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { JournalFile } from './journal-file';
import { acquireLock, liveHolder, type StudyLock } from './lock';
import { Replay } from './replay';
import type { StoredTrial, StudyStore, TrialEvent } from './types';

export interface JournalOptions {
  readOnly?: boolean;
  /** Where warnings (torn line, stale lock) go; default stderr. */
  onWarning?(text: string): void;
  /** Release the lock on SIGINT/SIGTERM (default true); off when the caller stops gracefully. */
  lockSignals?: boolean;
}

export const JOURNAL_FILE = 'journal.jsonl';
export const LOCK_FILE = 'journal.lock';

const defaultWarn = (text: string): void => {
  process.stderr.write(`trialbook: warning: ${text}\n`);
};

export class JournalStore implements StudyStore {
  readonly file: JournalFile;
  private readonly replay = new Replay();
  private offset = 0;
  private lines = 0;
  private reserved = 0;
  private lock: StudyLock | undefined;
  private readonly warn: (text: string) => void;

  constructor(readonly dir: string, private readonly opts: JournalOptions = {}) {
    this.file = new JournalFile(join(dir, JOURNAL_FILE));
    this.warn = opts.onWarning ?? defaultWarn;
    if (!opts.readOnly) {
      this.lock = acquireLock(join(dir, LOCK_FILE), { onWarning: this.warn, signals: opts.lockSignals });
    }
    this.refresh(true);
  }

  get path(): string {
    return this.file.path;
  }

  private refresh(first = false): void {
    const batch = this.file.read(this.offset, this.lines + 1);
    for (const e of batch.events) this.replay.apply(e);
    this.offset = batch.offset;
    this.lines = batch.lines;
    // Readers may see a line being written right now: only the writer reports and repairs it.
    const torn = batch.tornAt !== undefined;
    for (const w of batch.warnings) if (!(torn && this.opts.readOnly && w === batch.warnings[batch.warnings.length - 1])) this.warn(w);
    if (torn && !this.opts.readOnly && first) this.file.truncateTo(batch.tornAt!);
  }

  async append(event: TrialEvent): Promise<void> {
    if (this.opts.readOnly) throw new UserError(`${this.path}: opened read-only`, 'E_INTERNAL');
    this.file.append(event);
    // We are the only writer (lock): account for our own line instead of reading it back.
    this.offset += Buffer.byteLength(JSON.stringify(event) + '\n', 'utf8');
    this.lines++;
    this.replay.apply(event);
  }

  async trials(): Promise<StoredTrial[]> {
    if (!this.opts.readOnly) return this.replay.trials();
    this.refresh();
    // With no live writer, a trial left running was interrupted (the failure the next tune --resume records).
    if (liveHolder(join(this.dir, LOCK_FILE))) return this.replay.trials();
    return this.replay.trials().map((t) => (t.state === 'running' ? { ...t, state: 'failed', error: 'interrupted: the process running it stopped' } : t));
  }

  async nextTrialNumber(): Promise<number> {
    if (this.opts.readOnly) throw new UserError(`${this.path}: opened read-only`, 'E_INTERNAL');
    const n = Math.max(this.replay.maxNumber + 1, this.reserved);
    this.reserved = n + 1;
    return n;
  }

  async close(): Promise<void> {
    this.file.close();
    this.lock?.release();
    this.lock = undefined;
  }
}
