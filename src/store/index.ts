/** Opens the store a study names: the local journal, or a PostgreSQL database (./postgres). */
import { UserError } from '../core/errors';
import { studyStateDir, type LoadedStudy } from '../core/study';
import { JournalStore, type JournalOptions } from './journal';
import { isPostgresUrl, openPostgresStudy, redactUrl } from './postgres';
import type { StudyStore } from './types';

export interface OpenOptions {
  /** A --storage URL that overrides the study file's `storage`. */
  storage?: string;
  /** To read only (report, the editor); otherwise to run trials in: the journal's lock, or the shared database. */
  readOnly?: boolean;
  /** Trials this process runs at once (a writer's connections: claims, heartbeats, one per trial). */
  parallel?: number;
  onWarning?: JournalOptions['onWarning'];
}

export type StudyStorage = { kind: 'journal' } | { kind: 'postgres'; url: string };

/**
 * Where a study lives: `--storage` (when given) over the study file's `storage`. A value that is
 * neither "journal" nor a postgresql:// URL is refused, naming the flag or the file's field.
 */
export function studyStorage(loaded: LoadedStudy, override?: string): StudyStorage {
  const storage = override ?? loaded.study.storage;
  if (isPostgresUrl(storage)) return { kind: 'postgres', url: storage };
  if (storage === 'journal') return { kind: 'journal' };
  const where = override !== undefined ? '--storage' : `${loaded.file}: storage`;
  throw new UserError(`${where}: expected "journal" or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL, got ${JSON.stringify(redactUrl(storage))}`, override !== undefined ? 'E_USAGE' : 'E_STUDY');
}

/** Opens the store of a study to read it, or to run its trials in. */
export async function openStore(loaded: LoadedStudy, opts: OpenOptions = {}): Promise<StudyStore> {
  const storage = studyStorage(loaded, opts.storage);
  const warn = opts.onWarning ? { onWarning: opts.onWarning } : {};
  if (storage.kind === 'journal') return new JournalStore(studyStateDir(loaded), { readOnly: opts.readOnly, lockSignals: false, ...warn });
  return openPostgresStudy(storage.url, loaded, opts.readOnly ? { readOnly: true, ...warn } : { poolSize: 2 + (opts.parallel ?? 1), ...warn });
}

export { JournalStore } from './journal';
export type { StoredTrial, StudyStore, TrialEvent } from './types';

