/**
 * The workspace's studies: every `*.trialbook.json`, parsed, with its journal replayed read-only
 * through the store. Study files and journals are watched, so the explorer, the dashboard and
 * the status bar follow a run live. A study file that does not parse is kept with its error.
 *
 * A shared study (`storage: "postgresql://…"`) is followed read-only by a StudyFollower: polled
 * in the background (never awaited by activation, the tree or a command), fast while it is shown
 * and trials run, slowly while nobody looks. Its connection state travels with its view; an
 * outage gives one warning, and the view recovers by itself when the database is back.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadStudy, studyStateDir, type LoadedStudy } from '../core/study';
import { writeFileAtomic } from '../core/fsutil';
import { StudyView } from '../protocol/messages';
import { splitRows } from '../runner/preflight';
import { studyView } from '../runner/report';
import { JournalStore, JOURNAL_FILE } from '../store/journal';
import type { FollowState, StudyFollower } from '../store/postgres/follow';
import { isPostgresUrl, passwordOf, redactText, redactUrl } from '../store/postgres/url';
import type { Log } from './log';

export type SharedInfo = NonNullable<StudyView['shared']>;

export interface StudyEntry {
  /** Absolute path of the study file. */
  file: string;
  loaded?: LoadedStudy;
  /** Why the study file could not be loaded. */
  error?: string;
  view?: StudyView;
  /** Token-length summary from the last Inspect Token Lengths run (not in the journal). */
  lengths?: StudyView['lengths'];
  /** A study shared through PostgreSQL: where (password hidden) and the connection state. */
  shared?: SharedInfo;
}

interface SharedReader {
  /** URL and study name: a new follower when either changes. */
  key: string;
  follower: StudyFollower;
  state: FollowState;
}

interface Reader {
  store: JournalStore;
  size: number;
}

const STUDY_GLOB = '**/*.trialbook.json';
/** The last Inspect Token Lengths result, beside the study's journal. */
const LENGTHS_FILE = 'lengths.json';

function readLengths(loaded: LoadedStudy): StudyView['lengths'] {
  try {
    const r = StudyView.shape.lengths.safeParse(JSON.parse(readFileSync(join(studyStateDir(loaded), LENGTHS_FILE), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
const EXCLUDE = '**/{node_modules,.trialbook,.git}/**';

export class StudyIndex implements vscode.Disposable {
  private readonly entries = new Map<string, StudyEntry>();
  private readonly readers = new Map<string, Reader>();
  private readonly followers = new Map<string, SharedReader>();
  /** Whether anybody looks at a study now (the explorer, its dashboard, a run): fast polling. */
  private watched: (file: string) => boolean = () => true;
  private readonly changed = new vscode.EventEmitter<StudyEntry | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private scanned: Promise<void> | undefined;

  constructor(private readonly log: Log) {
    const studies = vscode.workspace.createFileSystemWatcher(STUDY_GLOB);
    studies.onDidCreate((u) => this.schedule(u.fsPath));
    studies.onDidChange((u) => this.schedule(u.fsPath));
    studies.onDidDelete((u) => this.remove(u.fsPath));
    const journals = vscode.workspace.createFileSystemWatcher(`**/.trialbook/*/${JOURNAL_FILE}`);
    const onJournal = (u: vscode.Uri): void => {
      for (const e of this.entries.values()) if (e.loaded && join(studyStateDir(e.loaded), JOURNAL_FILE) === u.fsPath) this.schedule(e.file, true);
    };
    journals.onDidCreate(onJournal);
    journals.onDidChange(onJournal);
    journals.onDidDelete(onJournal);
    this.disposables.push(studies, journals);
  }

  /** Finds the workspace's study files once; later changes come from the watchers. */
  ready(): Promise<void> {
    this.scanned ??= (async () => {
      const uris = await vscode.workspace.findFiles(STUDY_GLOB, EXCLUDE, 200);
      for (const u of uris) await this.load(u.fsPath);
      this.changed.fire(undefined);
    })();
    return this.scanned;
  }

  list(): StudyEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.view?.name ?? a.file).localeCompare(b.view?.name ?? b.file));
  }

  get(file: string): StudyEntry | undefined {
    return this.entries.get(file);
  }

  /** Re-reads a study now (after a command changed it). */
  async reload(file: string): Promise<StudyEntry> {
    const e = await this.load(file);
    this.changed.fire(e);
    return e;
  }

  /** Token lengths just measured: shown now and kept beside the journal, so a reload shows them too. */
  setLengths(file: string, lengths: StudyView['lengths']): void {
    const e = this.entries.get(file);
    if (!e) return;
    e.lengths = lengths;
    if (e.loaded && lengths) {
      mkdirSync(studyStateDir(e.loaded), { recursive: true });
      writeFileAtomic(join(studyStateDir(e.loaded), LENGTHS_FILE), JSON.stringify(lengths));
    }
    if (e.view && lengths) e.view = { ...e.view, lengths };
    this.changed.fire(e);
  }

  /** Tells shared-study followers who looks at what (polled fast when looked at, slowly when not). */
  setWatched(fn: (file: string) => boolean): void {
    this.watched = fn;
  }

  /** Reads a shared study now (its view became visible, a local worker reported progress). */
  poke(file?: string): void {
    for (const [f, r] of this.followers) if (!file || f === file) r.follower.poke();
  }

  /** While a run is going, also poll: file watchers can lag or coalesce on some systems. */
  setPolling(on: boolean): void {
    if (on && !this.poll) this.poll = setInterval(() => this.refreshJournals(), 1000);
    if (!on && this.poll) {
      clearInterval(this.poll);
      this.poll = undefined;
      this.refreshJournals();
    }
  }

  private refreshJournals(): void {
    for (const e of this.entries.values()) if (e.loaded) this.schedule(e.file, true);
  }

  private schedule(file: string, journalOnly = false): void {
    this.pending.add(`${journalOnly ? 'j' : 's'}:${file}`);
    // Journals grow a line per metric: coalesce bursts into one refresh.
    this.timer ??= setTimeout(() => void this.flush(), 200);
  }

  private async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    for (const key of batch) {
      const file = key.slice(2);
      const known = this.entries.get(file);
      if (key.startsWith('j:') && known?.view?.shared) {
        // A shared study's follower reports its own changes: only ask it to read now.
        this.poke(file);
        continue;
      }
      const e = key.startsWith('j:') && known?.loaded ? await this.refreshTrials(known) : await this.load(file);
      this.changed.fire(e);
    }
    this.timer = undefined;
    if (this.pending.size) this.timer = setTimeout(() => void this.flush(), 200);
  }

  private remove(file: string): void {
    this.entries.delete(file);
    this.dropReader(file);
    this.changed.fire(undefined);
  }

  private dropReader(file: string): void {
    const r = this.readers.get(file);
    if (r) void r.store.close();
    this.readers.delete(file);
    const f = this.followers.get(file);
    if (f) void f.follower.stop();
    this.followers.delete(file);
  }

  private async load(file: string): Promise<StudyEntry> {
    const old = this.entries.get(file);
    const entry: StudyEntry = { file, lengths: old?.lengths };
    this.entries.set(file, entry);
    try {
      entry.loaded = loadStudy(file);
      entry.lengths ??= readLengths(entry.loaded);
    } catch (e) {
      entry.error = (e as Error).message;
      this.dropReader(file);
      return entry;
    }
    if (old?.loaded && studyStateDir(old.loaded) !== studyStateDir(entry.loaded)) this.dropReader(file);
    return this.refreshTrials(entry);
  }

  private async refreshTrials(entry: StudyEntry): Promise<StudyEntry> {
    const loaded = entry.loaded!;
    if (isPostgresUrl(loaded.study.storage)) return this.followShared(entry, loaded.study.storage);
    if (this.followers.has(entry.file)) this.dropReader(entry.file);
    try {
      const dir = studyStateDir(loaded);
      const journal = join(dir, JOURNAL_FILE);
      let size = 0;
      try {
        size = statSync(journal).size;
      } catch {
        size = 0;
      }
      let reader = this.readers.get(entry.file);
      // A journal that shrank was archived (tune --fresh): replay the new one from the start.
      if (reader && size < reader.size) {
        this.dropReader(entry.file);
        reader = undefined;
      }
      if (!reader) {
        reader = { store: new JournalStore(dir, { readOnly: true, onWarning: (t) => this.log.warn(t) }), size };
        this.readers.set(entry.file, reader);
      }
      reader.size = size;
      const trials = await reader.store.trials();
      entry.view = this.decorate(entry, studyView(loaded, trials));
      entry.error = undefined;
    } catch (e) {
      entry.error = (e as Error).message;
    }
    return entry;
  }

  /**
   * A shared study: its view comes from the follower's last read (an empty one until the first
   * read), so the explorer and commands never wait for the database. The follower is kept across
   * reloads of the study file unless its URL or name changed.
   */
  private async followShared(entry: StudyEntry, url: string): Promise<StudyEntry> {
    const loaded = entry.loaded!;
    const key = `${loaded.study.name}\n${url}`;
    let reader = this.followers.get(entry.file);
    if (reader && reader.key !== key) {
      this.dropReader(entry.file);
      reader = undefined;
    }
    if (!reader) {
      if (this.readers.has(entry.file)) this.dropReader(entry.file);
      // Loaded on the first shared study only: the pg driver stays out of activation.
      const { StudyFollower } = await import('../store/postgres/follow');
      const existing = this.followers.get(entry.file);
      if (existing?.key === key) return this.applyShared(entry, existing.state);
      const file = entry.file;
      const follower = new StudyFollower({
        url,
        studyName: loaded.study.name,
        onWarning: (text) => this.log.warn(`[${loaded.study.name}] ${redactText(text, passwordOf(url))}`),
        watched: () => this.watched(file),
        onChange: (state) => this.onShared(file, key, state),
      });
      reader = { key, follower, state: follower.current };
      this.followers.set(file, reader);
      this.log.info(`[${loaded.study.name}] shared study at ${redactUrl(url)}: following it read-only`);
      follower.start();
    } else {
      reader.follower.poke();
    }
    return this.applyShared(entry, reader.state);
  }

  /** Rebuilds a shared study's view from a follower state. */
  private applyShared(entry: StudyEntry, state: FollowState): StudyEntry {
    const loaded = entry.loaded!;
    const trials = state.trials ?? [];
    const running = new Set(trials.filter((t) => t.state === 'running').map((t) => t.worker ?? '?')).size;
    entry.shared = {
      where: state.where,
      status: state.status,
      exists: state.exists,
      workers: running,
      ...(state.message ? { message: state.message } : {}),
      ...(state.readAt ? { readAt: state.readAt } : {}),
    };
    entry.view = { ...this.decorate(entry, studyView(loaded, trials)), shared: entry.shared };
    entry.error = undefined;
    return entry;
  }

  /** What the journal does not hold: the token lengths last measured, the train split's size. */
  private decorate(entry: StudyEntry, view: StudyView): StudyView {
    const train = splitRows(entry.loaded!).train;
    return { ...view, ...(entry.lengths ? { lengths: entry.lengths } : {}), ...(train !== undefined ? { trainRows: train } : {}) };
  }

  private onShared(file: string, key: string, state: FollowState): void {
    const reader = this.followers.get(file);
    const entry = this.entries.get(file);
    if (!reader || reader.key !== key || !entry?.loaded) return;
    const before = reader.state.status;
    reader.state = state;
    const name = entry.loaded.study.name;
    if (state.status === 'offline' && before !== 'offline') {
      // One message per outage (not per retry); the view keeps the trials it read last.
      this.log.warn(`[${name}] shared study offline: ${state.message ?? ''}; retrying in the background`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Trialbook: shared study {0}: {1}. The explorer and the dashboard keep the trials read last and reconnect by themselves.', name, state.message ?? ''));
    } else if (state.status === 'live' && before === 'offline') {
      this.log.info(`[${name}] shared study back online at ${state.where}`);
      vscode.window.setStatusBarMessage(vscode.l10n.t('Trialbook: shared study {0} is back online', name), 5000);
    }
    this.changed.fire(this.applyShared(entry, state));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    for (const f of [...this.readers.keys()]) this.dropReader(f);
    for (const d of this.disposables) d.dispose();
  }
}
