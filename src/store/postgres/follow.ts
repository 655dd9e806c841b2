/**
 * Following a shared study live, read-only: what the editor (and any other viewer) uses to show
 * the trials that workers on other machines run. One read-only store, one connection, polled:
 * each poll is one indexed query for the events committed since the last one (`id > cursor`),
 * and the trials are rebuilt only when something arrived. Polling rather than LISTEN/NOTIFY:
 * it needs nothing from the writers (no trigger, no NOTIFY in the workers' transactions), works
 * through connection poolers, and needs no re-subscription after the server comes back.
 *
 * A follower never writes: it opens the store read-only, so a study that no worker has created
 * yet simply shows no trials until one does. Connection problems become one status change
 * (`offline` with a one-line message, password hidden) and the follower keeps trying with
 * back-off; the last trials read stay available meanwhile.
 */
import type { StoredTrial } from '../types';
import { PostgresStore, type PgStoreOptions } from './store';
import { passwordOf, redactText, redactUrl } from './url';

export type FollowStatus = 'connecting' | 'live' | 'offline';

export interface FollowState {
  status: FollowStatus;
  /** The database, password hidden. */
  where: string;
  /** The trials as last read; kept while offline. Undefined until the first read. */
  trials: StoredTrial[] | undefined;
  /** The study is in the database (false until a worker creates it). */
  exists: boolean;
  /** Offline: why, in one line, password hidden. */
  message?: string;
  /** When the current outage began (ms). */
  offlineSince?: number;
  /** Last successful read (ms). */
  readAt?: number;
}

/** What a follower needs of a store (PostgresStore; tests may pass something else). */
export interface FollowedStore {
  refresh(): Promise<boolean>;
  trials(): Promise<StoredTrial[]>;
  readonly exists: boolean;
  close(): Promise<void>;
}

export interface FollowTiming {
  /** While trials run or something just changed. */
  fastMs: number;
  /** Longest gap while the study is watched but quiet (the interval doubles from fastMs). */
  slowMs: number;
  /** Gap while nobody looks (no view shows the study). */
  idleMs: number;
  /** First retry after a failure; doubles up to retryMaxMs. */
  retryMs: number;
  retryMaxMs: number;
  /** Least gap between polls asked for with poke(). */
  pokeGapMs: number;
  /** How long one read keeps retrying a lost connection before it counts as offline. */
  readRetryMs: number;
}

export const DEFAULT_TIMING: FollowTiming = { fastMs: 1000, slowMs: 4000, idleMs: 30_000, retryMs: 2000, retryMaxMs: 30_000, pokeGapMs: 250, readRetryMs: 3000 };

export interface FollowOptions {
  url: string;
  studyName: string;
  /** Told about every change of trials or status. */
  onChange(state: FollowState): void;
  /** Retries inside one read (at most one line per outage and every fifth try). */
  onWarning?(text: string): void;
  /** Whether anybody looks at the study now (slow polling when not). */
  watched?(): boolean;
  timing?: Partial<FollowTiming>;
  /** Opens the store (tests); default PostgresStore.open read-only with one connection. */
  open?(url: string, studyName: string, opts: PgStoreOptions): Promise<FollowedStore>;
}

export interface DelayInput {
  status: FollowStatus;
  /** The last poll brought news (or recovered from an outage). */
  changed: boolean;
  /** Trials are running somewhere. */
  running: boolean;
  /** Polls in a row without news. */
  quiet: number;
  /** Failures in a row. */
  failures: number;
  watched: boolean;
}

/** How long to wait before the next poll. */
export function nextDelay(t: FollowTiming, s: DelayInput): number {
  if (s.status === 'offline') return Math.min(t.retryMaxMs, t.retryMs * 2 ** Math.max(0, Math.min(s.failures - 1, 16)));
  if (!s.watched) return t.idleMs;
  if (s.changed || s.running) return t.fastMs;
  return Math.min(t.slowMs, t.fastMs * 2 ** Math.min(s.quiet, 16));
}

/** One line for a person: the error's message with every URL's password (and the literal one) hidden. */
export function followErrorText(e: unknown, url: string): string {
  const raw = String((e as Error)?.message ?? e).split('\n')[0]!;
  return redactText(raw, passwordOf(url));
}

export class StudyFollower {
  private readonly t: FollowTiming;
  private store: FollowedStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private again = false;
  private stopped = false;
  private quiet = 0;
  private failures = 0;
  private lastPoll = 0;
  private readonly state: FollowState;

  constructor(private readonly o: FollowOptions) {
    this.t = { ...DEFAULT_TIMING, ...o.timing };
    this.state = { status: 'connecting', where: redactUrl(o.url), trials: undefined, exists: false };
  }

  /** A copy of the current state. */
  get current(): FollowState {
    return { ...this.state };
  }

  /** Starts polling (the first read right away, in the background: never awaited by a caller). */
  start(): this {
    this.schedule(0);
    return this;
  }

  /** Read now (a view became visible, a local worker reported something); coalesced. */
  poke(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.schedule(Math.max(0, this.lastPoll + this.t.pokeGapMs - Date.now()));
  }

  /** Stops polling and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.store;
    this.store = undefined;
    await s?.close().catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    // A follower never keeps a process alive by itself.
    this.timer.unref?.();
  }

  private openStore(): Promise<FollowedStore> {
    const opts: PgStoreOptions = { readOnly: true, poolSize: 1, retryBudgetMs: this.t.readRetryMs, ...(this.o.onWarning ? { onWarning: this.o.onWarning } : { onWarning: () => undefined }) };
    return this.o.open ? this.o.open(this.o.url, this.o.studyName, opts) : PostgresStore.open(this.o.url, this.o.studyName, opts);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped || this.busy) return;
    this.busy = true;
    this.again = false;
    this.lastPoll = Date.now();
    let changed = false;
    try {
      if (!this.store) {
        const s = await this.openStore();
        if (this.stopped) {
          await s.close().catch(() => undefined);
          return;
        }
        this.store = s;
      }
      const fresh = await this.store.refresh();
      if (fresh || this.state.trials === undefined) {
        const trials = await this.store.trials();
        if (this.stopped) return;
        this.state.trials = trials;
        changed = true;
      }
      const recovered = this.state.status !== 'live';
      const appeared = this.store.exists !== this.state.exists;
      this.state.status = 'live';
      this.state.exists = this.store.exists;
      this.state.readAt = Date.now();
      delete this.state.message;
      delete this.state.offlineSince;
      this.failures = 0;
      this.quiet = changed ? 0 : this.quiet + 1;
      if (changed || recovered || appeared) this.emit();
      changed ||= recovered;
    } catch (e) {
      if (this.stopped) return;
      this.failures++;
      const message = followErrorText(e, this.o.url);
      const first = this.state.status !== 'offline';
      if (first) this.state.offlineSince = Date.now();
      const news = first || message !== this.state.message;
      this.state.status = 'offline';
      this.state.message = message;
      if (news) this.emit();
    } finally {
      this.busy = false;
      if (!this.stopped) {
        const running = (this.state.trials ?? []).some((x) => x.state === 'running');
        const delay = this.again ? this.t.pokeGapMs : nextDelay(this.t, { status: this.state.status, changed, running, quiet: this.quiet, failures: this.failures, watched: this.o.watched?.() ?? true });
        this.schedule(delay);
      }
    }
  }

  private emit(): void {
    if (this.stopped) return;
    try {
      this.o.onChange(this.current);
    } catch {
      // a listener's error is its own
    }
  }
}
