/** Opens the store a study names: the local journal, or a PostgreSQL database (./postgres). */
import { UserError } from '../core/errors';
import { studyStateDir, type LoadedStudy } from '../core/study';
import { JournalStore, type JournalOptions } from './journal';
import { isPostgresUrl, openPostgresStudy, redactUrl } from './postgres';
import type { StoredTrial, StudyStore } from './types';

/** `storage`: a --storage URL that overrides the study file's `storage`. */
export type OpenOptions = JournalOptions & { storage?: string };

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

export async function openStore(loaded: LoadedStudy, opts: OpenOptions = {}): Promise<StudyStore> {
  const storage = studyStorage(loaded, opts.storage);
  if (storage.kind === 'postgres') {
    // Shared studies: readers attach directly; trials are run by workers (atomic claims).
    if (!opts.readOnly) {
      throw new UserError(`${loaded.file}: storage is a PostgreSQL database (${redactUrl(storage.url)}): run its trials with \`trialbook worker ${loaded.file}\` or \`trialbook tune ${loaded.file}\` (any number of them, on any machines)`, 'E_STUDY');
    }
    return openPostgresStudy(storage.url, loaded, { readOnly: true, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  }
  return new JournalStore(studyStateDir(loaded), opts);
}

export { JournalStore } from './journal';
export type { StoredTrial, StudyStore, TrialEvent } from './types';

/** Every trial of a study, read without taking the lock (report, editor, dashboard). */
export async function readTrials(loaded: LoadedStudy, opts: Omit<OpenOptions, 'readOnly'> = {}): Promise<StoredTrial[]> {
  const store = await openStore(loaded, { ...opts, readOnly: true });
  try {
    return await store.trials();
  } finally {
    await store.close();
  }
}
