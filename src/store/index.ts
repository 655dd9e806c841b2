/** Opens the store a study names: the local journal, or a PostgreSQL database (./postgres). */
import { UserError } from '../core/errors';
import { studyStateDir, type LoadedStudy } from '../core/study';
import { JournalStore, type JournalOptions } from './journal';
import { isPostgresUrl, openPostgresStudy, redactUrl } from './postgres';
import type { StoredTrial, StudyStore } from './types';

/** `storage`: a --storage URL that overrides the study file's `storage`. */
export type OpenOptions = JournalOptions & { storage?: string };

export async function openStore(loaded: LoadedStudy, opts: OpenOptions = {}): Promise<StudyStore> {
  const storage = opts.storage ?? loaded.study.storage;
  if (isPostgresUrl(storage)) {
    // Shared studies: readers attach directly; trials are run by `trialbook worker` (atomic claims).
    if (!opts.readOnly) {
      throw new UserError(`${loaded.file}: storage is a PostgreSQL database (${redactUrl(storage)}): run its trials with \`trialbook worker ${loaded.file}\` (any number of them, on any machines); \`tune\` runs local journal studies`, 'E_STUDY');
    }
    return openPostgresStudy(storage, loaded, { readOnly: true, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
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
