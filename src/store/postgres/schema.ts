/**
 * The database schema, created and upgraded by the tool. Each migration runs once, in order,
 * inside one transaction holding an advisory lock, so workers starting together never race to
 * create tables; `trialbook_schema_version` records what was applied.
 */
import type { PoolClient } from 'pg';
import { UserError } from '../../core/errors';

/** Advisory lock keys (two-int form: namespace, study id). 'tb' in ASCII as the namespace base. */
export const LOCK_MIGRATE = 0x7462_0000;
export const LOCK_CLAIM = 0x7462_0001;
export const LOCK_APPEND = 0x7462_0002;

export const MIGRATIONS: ReadonlyArray<{ version: number; what: string; sql: string }> = [
  {
    version: 1,
    what: 'studies, trials and their events',
    sql: `
      CREATE TABLE trialbook_studies (
        id          serial PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        spec        json,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      -- One row per trial: who runs it and when it last gave a sign of life. The history itself
      -- (params, curve, result) lives in the events, exactly as in the local journal.
      CREATE TABLE trialbook_trials (
        study_id     integer NOT NULL REFERENCES trialbook_studies(id) ON DELETE CASCADE,
        number       integer NOT NULL,
        state        text NOT NULL,
        worker       text,
        attempt      integer NOT NULL DEFAULT 0,
        value        double precision,
        heartbeat_at timestamptz,
        PRIMARY KEY (study_id, number)
      );
      CREATE INDEX trialbook_trials_running ON trialbook_trials (study_id, heartbeat_at) WHERE state = 'running';
      -- The journal, one row per event, in commit order per study (see LOCK_APPEND).
      CREATE TABLE trialbook_events (
        id        bigserial PRIMARY KEY,
        study_id  integer NOT NULL REFERENCES trialbook_studies(id) ON DELETE CASCADE,
        trial     integer NOT NULL,
        type      text NOT NULL,
        body      json NOT NULL,
        at        timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX trialbook_events_by_study ON trialbook_events (study_id, id);
    `,
  },
  {
    version: 2,
    what: 'checkpoints of promotable trials, for promotions on another machine',
    sql: `
      -- One row per uploaded checkpoint: the trial's epoch checkpoint folder as its attempt left
      -- it when it finished. Keyed by attempt, so a late upload of a lost attempt never replaces
      -- the checkpoint of the attempt that finished; a row exists only once all its chunks do
      -- (one transaction).
      CREATE TABLE trialbook_checkpoints (
        study_id    integer NOT NULL REFERENCES trialbook_studies(id) ON DELETE CASCADE,
        trial       integer NOT NULL,
        attempt     integer NOT NULL,
        epoch       integer,
        files       json NOT NULL,
        bytes       bigint NOT NULL,
        worker      text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (study_id, trial, attempt)
      );
      -- The files, in chunks (bytea rows stay far below the 1 GB value limit and are streamed).
      CREATE TABLE trialbook_checkpoint_chunks (
        study_id  integer NOT NULL,
        trial     integer NOT NULL,
        attempt   integer NOT NULL,
        file      text NOT NULL,
        seq       integer NOT NULL,
        data      bytea NOT NULL,
        PRIMARY KEY (study_id, trial, attempt, file, seq),
        FOREIGN KEY (study_id, trial, attempt) REFERENCES trialbook_checkpoints (study_id, trial, attempt) ON DELETE CASCADE
      );
      -- Float tensors do not compress: store them out of line without trying.
      ALTER TABLE trialbook_checkpoint_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the schema up to SCHEMA_VERSION; returns the versions applied now. */
export async function migrateSchema(client: PoolClient): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_MIGRATE]);
    await client.query('CREATE TABLE IF NOT EXISTS trialbook_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM trialbook_schema_version');
    const current = r.rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new UserError(`the database schema is version ${current}, newer than this trialbook understands (${SCHEMA_VERSION}): upgrade trialbook on this machine`, 'E_STORAGE');
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO trialbook_schema_version (version) VALUES ($1)', [m.version]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The schema version in the database, 0 when the tool never ran there (read-only openers). */
export async function schemaVersion(client: PoolClient): Promise<number> {
  const t = await client.query<{ t: string | null }>("SELECT to_regclass('trialbook_schema_version') AS t");
  if (!t.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM trialbook_schema_version');
  return r.rows[0]?.v ?? 0;
}
