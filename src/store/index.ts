/** Opens the store a study names: the local journal, or (later) a PostgreSQL database. */
import { UserError } from '../core/errors';
import { studyStateDir, type LoadedStudy } from '../core/study';
import { JournalStore, type JournalOptions } from './journal';
import type { StoredTrial, StudyStore } from './types';

export type OpenOptions = JournalOptions;

export async function openStore(loaded: LoadedStudy, opts: OpenOptions = {}): Promise<StudyStore> {
  const storage = loaded.study.storage;
  if (storage.startsWith('postgresql://') || storage.startsWith('postgres://')) {
    // src/store/postgres.ts plugs in here once it exists (same StudyStore interface).
    throw new UserError(`${loaded.file}: storage: PostgreSQL studies are not supported yet; use "journal" (the default)`, 'E_STUDY');
  }
  if (storage !== 'journal') {
    throw new UserError(`${loaded.file}: storage: expected "journal" or a postgresql:// URL, got ${JSON.stringify(storage)}`, 'E_STUDY');
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
