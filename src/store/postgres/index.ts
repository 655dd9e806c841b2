/** PostgreSQL study storage: the store and URL redaction. */
import type { LoadedStudy } from '../../core/study';
import { PostgresStore, type PgStoreOptions } from './store';

export { PostgresStore, type PgStoreOptions } from './store';
export { isPostgresUrl, redactUrl, redactText } from './url';
export { SCHEMA_VERSION } from './schema';

/** Opens the study named in a study file inside the database at `url` (readers: read-only). */
export function openPostgresStudy(url: string, loaded: LoadedStudy, opts: PgStoreOptions = {}): Promise<PostgresStore> {
  return PostgresStore.open(url, loaded.study.name, { spec: loaded.study, ...opts });
}
