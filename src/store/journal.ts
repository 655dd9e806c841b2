/**
 * The local study store: `<studyStateDir>/journal.jsonl` replayed into trials. A writer holds
 * the study lock (./lock.ts), so it is the only process appending: its claims need only run one
 * at a time, and a trial it finds running when it opens was lost with the process that ran it.
 * Readers (report, the editor) open it read-only and pick up new lines.
 */
import { join } from 'node:path';
import { UserError } from '../core/errors';
import { JournalFile } from './journal-file';
import { acquireLock, liveHolder, type StudyLock } from './lock';
import { Replay } from './replay';
import type { ClaimContext, ClaimDecision, FinishOutcome, StoredTrial, StudyStore, TrialEvent } from './types';

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
  readonly shared = false;
  readonly file: JournalFile;
  private readonly replay = new Replay();
  private offset = 0;
  private lines = 0;
  private lock: StudyLock | undefined;
  /** Trials this process claimed: any other running trial was lost with the process that ran it. */
  private readonly leased = new Set<number>();
  private claims: Promise<unknown> = Promise.resolve();
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

  get where(): string {
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

  async claim<T>(decide: (ctx: ClaimContext) => Promise<ClaimDecision<T>> | ClaimDecision<T>): Promise<T> {
    const claim = this.claims.then(async () => {
      const d = await decide({ trials: this.replay.trials(), nextNumber: async () => this.replay.maxNumber + 1, checkpoint: async () => undefined });
      for (const e of d.events) {
        await this.append(e);
        if (e.type === 'started') this.leased.add(e.trial);
      }
      return d.result;
    });
    this.claims = claim.catch(() => undefined);
    return claim;
  }

  /** The attempt still holds the trial: the lock keeps every other process out, so only a newer attempt here can take it. */
  private holds(trial: number, worker: string, attempt: number): boolean {
    const t = this.replay.trial(trial);
    return t?.worker === worker && t.attempts === attempt;
  }

  async heartbeat(trial: number, worker: string, attempt: number): Promise<boolean> {
    return this.holds(trial, worker, attempt) && this.replay.trial(trial)!.state === 'running';
  }

  async finish(outcome: TrialEvent, worker: string, attempt: number): Promise<FinishOutcome> {
    if (!this.holds(outcome.trial, worker, attempt)) return 'taken-over';
    const state = this.replay.trial(outcome.trial)!.state;
    if (state === 'complete' || state === 'pruned' || (state === 'failed' && outcome.type === 'failed')) return 'already-written';
    await this.append(outcome);
    return 'written';
  }

  async expireLost(): Promise<number[]> {
    const lost = this.replay.trials().filter((t) => t.state === 'running' && !this.leased.has(t.number));
    for (const t of lost) await this.append({ type: 'failed', trial: t.number, reason: 'interrupted', cause: 'the process running it stopped', at: Date.now() });
    return lost.map((t) => t.number);
  }

  async close(): Promise<void> {
    this.file.close();
    this.lock?.release();
    this.lock = undefined;
  }
}
