/**
 * The shared study store: one PostgreSQL database, many studies (by name), many workers. The
 * events table is the journal (same TrialEvent JSON, replayed by the same Replay), so trials()
 * returns exactly what the local journal would. The trials table only says who runs what and
 * when it last heart-beat, which is what atomic claims and lost-worker detection need.
 *
 * Ordering: every insert into the events table happens under the study's append advisory lock,
 * held until commit, so event ids commit in increasing order per study and a reader can follow
 * the journal with a simple `id > last seen` cursor.
 */
import { Pool, type PoolClient } from 'pg';
import { UserError } from '../../core/errors';
import { Replay } from '../replay';
import type { ClaimContext, ClaimDecision, FinishOutcome, StoredCheckpoint, StoredTrial, StudyStore, TrialEvent } from '../types';
import { checkpointInfo, downloadCheckpoint, uploadCheckpoint } from './checkpoints';
import { badUrl, connectError, isRestarting, isTransient } from './errors';
import { withRetry } from './retry';
import { LOCK_APPEND, LOCK_CLAIM, migrateSchema, schemaVersion } from './schema';
import { passwordOf, redactText, redactUrl } from './url';

export interface PgStoreOptions {
  readOnly?: boolean;
  /** Where warnings (retries after a lost connection) go; default stderr. */
  onWarning?(text: string): void;
  /** How long writes keep retrying through a lost connection (ms; default 10 min, readers 0). */
  retryBudgetMs?: number;
  /** The study file's contents, recorded with the study the first time it is created. */
  spec?: unknown;
  /** Connections in the pool (default 3: claims/writes, heartbeats, metrics; a runner adds one per parallel trial). */
  poolSize?: number;
}

/** How long a joining worker waits for a restarting server (ms). */
const OPEN_RETRY_MS = 60_000;
const defaultWarn = (text: string): void => void process.stderr.write(`trialbook: warning: ${text}\n`);

export class PostgresStore implements StudyStore {
  readonly shared = true;
  private readonly replay = new Replay();
  private cursor = '0';
  private closed = false;
  private readonly warn: (text: string) => void;

  private constructor(
    private readonly pool: Pool,
    private readonly url: string,
    readonly studyName: string,
    private studyId: number | undefined,
    private readonly opts: PgStoreOptions,
  ) {
    this.warn = opts.onWarning ?? defaultWarn;
  }

  /** The URL with its password hidden, for anything shown to a person. */
  get where(): string {
    return redactUrl(this.url);
  }

  /**
   * Connects, creates or upgrades the schema (writers only) and finds or creates the study.
   * A bad URL, host or password fails here with one clear line.
   */
  static async open(url: string, studyName: string, opts: PgStoreOptions = {}): Promise<PostgresStore> {
    try {
      const u = new URL(url);
      if (!u.hostname && !u.searchParams.get('host')) throw new Error('no host');
    } catch (e) {
      throw badUrl(url, (e as Error).message === 'no host' ? 'no host' : 'not a URL');
    }
    // A worker that joins while the server restarts must wait for it, like a running one does;
    // a server that is simply not there (refused from the first try) still fails at once.
    let restarting = false;
    try {
      return await withRetry(() => PostgresStore.openOnce(url, studyName, opts), {
        budgetMs: opts.readOnly ? 0 : Math.min(opts.retryBudgetMs ?? OPEN_RETRY_MS, OPEN_RETRY_MS),
        firstDelayMs: 200,
        retryIf: (e) => !(e instanceof UserError) && (restarting ||= isRestarting(e)) && isTransient(e),
        onRetry: (e, delay) =>
          (opts.onWarning ?? defaultWarn)(`PostgreSQL at ${redactUrl(url)} is restarting (${redactText(String((e as Error)?.message ?? e), passwordOf(url))}); connecting again in ${(delay / 1000).toFixed(1)} s`),
      });
    } catch (e) {
      throw e instanceof UserError ? e : connectError(url, e);
    }
  }

  private static async openOnce(url: string, studyName: string, opts: PgStoreOptions): Promise<PostgresStore> {
    const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 3, connectionTimeoutMillis: 10_000, application_name: 'trialbook' });
    // Idle connections dropped by a server restart must not crash the process: queries retry.
    pool.on('error', () => undefined);
    // Nor may a connection that drops while checked out between two queries of a transaction
    // (a network cut): the next query on it fails, is transient, and the transaction re-runs.
    pool.on('connect', (c) => void c.on('error', () => undefined));
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    try {
      let studyId: number | undefined;
      if (opts.readOnly) {
        if ((await schemaVersion(client)) > 0) {
          const r = await client.query<{ id: number }>('SELECT id FROM trialbook_studies WHERE name = $1', [studyName]);
          studyId = r.rows[0]?.id;
        }
      } else {
        await migrateSchema(client);
        await recordStudy(client, studyName, opts.spec);
        const r = await client.query<{ id: number }>('SELECT id FROM trialbook_studies WHERE name = $1', [studyName]);
        studyId = r.rows[0]!.id;
      }
      client.release();
      return new PostgresStore(pool, url, studyName, studyId, opts);
    } catch (e) {
      client.release(true);
      await pool.end().catch(() => undefined);
      throw e;
    }
  }

  /** Names of the studies in the database (empty when the tool never ran there). */
  async studyNames(): Promise<string[]> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      try {
        if ((await schemaVersion(client)) === 0) return [];
        const r = await client.query<{ name: string }>('SELECT name FROM trialbook_studies ORDER BY name');
        return r.rows.map((x) => x.name);
      } finally {
        client.release();
      }
    });
  }

  /** Retries transient failures with back-off; a connection gone for good becomes one clear line. */
  private async guard<T>(fn: () => Promise<T>, what = 'talking to PostgreSQL'): Promise<T> {
    if (this.closed) throw new UserError(`${this.where}: store already closed`, 'E_INTERNAL');
    const budgetMs = this.opts.retryBudgetMs ?? (this.opts.readOnly ? 0 : 600_000);
    try {
      return await withRetry(fn, {
        budgetMs,
        onRetry: (e, delay, attempt) => {
          if (attempt === 1 || attempt % 5 === 0) this.warn(`PostgreSQL at ${this.where} unreachable while ${what} (${this.clean(e)}); retrying in ${(delay / 1000).toFixed(1)} s`);
        },
      });
    } catch (e) {
      if (e instanceof UserError) throw e;
      if (isTransient(e)) {
        throw new UserError(`lost the connection to PostgreSQL at ${this.where} while ${what} and could not get it back within ${Math.round(budgetMs / 1000)} s: ${this.clean(e)}`, 'E_STORAGE');
      }
      // Any other database error: keep its text (never the password), without a stack.
      throw new UserError(`PostgreSQL at ${this.where}: ${what}: ${this.clean(e)}`, 'E_STORAGE');
    }
  }

  private clean(e: unknown): string {
    return redactText(String((e as Error)?.message ?? e), passwordOf(this.url));
  }

  /** BEGIN … COMMIT on one connection; the whole callback runs again after a transient failure. */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>, what: string, begin = 'BEGIN'): Promise<T> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query(begin);
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        broken = isTransient(e);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release(broken);
      }
    }, what);
  }

  private requireStudy(): number {
    if (this.studyId === undefined) throw new UserError(`${this.where}: study "${this.studyName}" does not exist in this database`, 'E_NOT_FOUND');
    return this.studyId;
  }

  private writable(): number {
    if (this.opts.readOnly) throw new UserError(`${this.where}: opened read-only`, 'E_INTERNAL');
    return this.requireStudy();
  }

  /** Inserts events and keeps the trials table in step. The caller holds the append lock. */
  private async insertEvents(c: PoolClient, events: TrialEvent[]): Promise<void> {
    const id = this.requireStudy();
    for (const ev of events) {
      if (ev.type === 'heartbeat') {
        await c.query('UPDATE trialbook_trials SET heartbeat_at = now(), worker = $3 WHERE study_id = $1 AND number = $2', [id, ev.trial, ev.worker]);
        continue; // a liveness signal, not history: kept in the trials table only
      }
      await c.query('INSERT INTO trialbook_events (study_id, trial, type, body) VALUES ($1, $2, $3, $4)', [id, ev.trial, ev.type, JSON.stringify(ev)]);
      switch (ev.type) {
        case 'created':
          await c.query("INSERT INTO trialbook_trials (study_id, number, state) VALUES ($1, $2, 'queued') ON CONFLICT DO NOTHING", [id, ev.trial]);
          break;
        case 'started':
          await c.query("UPDATE trialbook_trials SET state = 'running', worker = $3, attempt = attempt + 1, heartbeat_at = now() WHERE study_id = $1 AND number = $2", [id, ev.trial, ev.worker]);
          break;
        case 'finished':
          await c.query("UPDATE trialbook_trials SET state = 'complete', value = $3 WHERE study_id = $1 AND number = $2", [id, ev.trial, ev.value]);
          break;
        case 'failed':
          await c.query("UPDATE trialbook_trials SET state = 'failed' WHERE study_id = $1 AND number = $2", [id, ev.trial]);
          break;
        case 'pruned':
          await c.query("UPDATE trialbook_trials SET state = 'pruned' WHERE study_id = $1 AND number = $2", [id, ev.trial]);
          break;
        case 'metric':
          break;
      }
    }
  }

  private async lockAppend(c: PoolClient): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_APPEND, this.requireStudy()]);
  }

  async append(event: TrialEvent): Promise<void> {
    await this.appendMany([event]);
  }

  /** Several events in one transaction (migrate copies whole journals this way). */
  async appendMany(events: TrialEvent[]): Promise<void> {
    this.writable();
    await this.tx(async (c) => {
      await this.lockAppend(c);
      await this.insertEvents(c, events);
    }, `writing ${events.length === 1 ? `a ${events[0]!.type} event of trial ${events[0]!.trial}` : `${events.length} events`}`);
  }

  /** Reads the events committed since the last call into the replay. */
  private async pull(c?: PoolClient): Promise<void> {
    if (this.studyId === undefined) {
      // A reader that opened before any worker created the study: look again.
      const found = await (c ?? this.pool).query<{ id: number }>("SELECT id FROM trialbook_studies WHERE name = $1 AND to_regclass('trialbook_studies') IS NOT NULL", [this.studyName]).catch(() => ({ rows: [] as Array<{ id: number }> }));
      this.studyId = found.rows[0]?.id;
      if (this.studyId === undefined) return;
    }
    const r = await (c ?? this.pool).query<{ id: string; body: TrialEvent }>('SELECT id, body FROM trialbook_events WHERE study_id = $1 AND id > $2 ORDER BY id', [this.studyId, this.cursor]);
    for (const row of r.rows) {
      this.replay.apply(row.body);
      this.cursor = row.id;
    }
  }

  /** Every event of the study in commit order (migrate copies them to a journal). */
  async events(): Promise<TrialEvent[]> {
    return this.guard(async () => {
      if (this.studyId === undefined) await this.pull();
      if (this.studyId === undefined) return [];
      const r = await this.pool.query<{ body: TrialEvent }>('SELECT body FROM trialbook_events WHERE study_id = $1 ORDER BY id', [this.studyId]);
      return r.rows.map((x) => x.body);
    }, 'reading the study');
  }

  async trials(): Promise<StoredTrial[]> {
    await this.guard(() => this.pull(), 'reading the study');
    return this.replay.trials();
  }

  /**
   * Reads the events committed since the last read and says whether there were any: a follower
   * (the editor's live view) polls this one indexed query and asks for trials() only on news.
   */
  async refresh(): Promise<boolean> {
    const before = this.cursor;
    await this.guard(() => this.pull(), 'reading the study');
    return this.cursor !== before;
  }

  /** The study is in the database (a reader may open before any worker created it). */
  get exists(): boolean {
    return this.studyId !== undefined;
  }

  /**
   * Marks running trials whose worker has not heart-beat for `timeoutS` seconds failed
   * ('heartbeat lost'), so that a claim can hand them to another worker. Database clock only.
   */
  async expireLost(timeoutS: number): Promise<number[]> {
    const id = this.writable();
    const stale = await this.guard(
      () => this.pool.query<{ number: number }>("SELECT number FROM trialbook_trials WHERE study_id = $1 AND state = 'running' AND heartbeat_at < now() - make_interval(secs => $2)", [id, timeoutS]),
      'looking for lost workers',
    );
    if (!stale.rowCount) return [];
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLAIM, id]);
      await this.lockAppend(c);
      const r = await c.query<{ number: number; worker: string | null; secs: number }>(
        "SELECT number, worker, extract(epoch FROM now() - heartbeat_at)::float8 AS secs FROM trialbook_trials WHERE study_id = $1 AND state = 'running' AND heartbeat_at < now() - make_interval(secs => $2) ORDER BY number FOR UPDATE",
        [id, timeoutS],
      );
      const at = Date.now();
      await this.insertEvents(
        c,
        r.rows.map((row) => ({ type: 'failed', trial: row.number, reason: 'heartbeat lost', cause: `worker ${row.worker ?? '?'} sent no heartbeat for ${Math.round(row.secs)} s (timeout ${timeoutS} s)`, at }) as TrialEvent),
      );
      return r.rows.map((row) => row.number);
    }, 'marking trials of lost workers');
  }

  /**
   * One claim, serialised per study (advisory transaction lock): `decide` sees every trial,
   * pending ones included, and returns the events that create/start what this worker runs.
   * Trial numbers come from the trials table under the same lock, so they never collide.
   * Runs again from the start after a transient failure, so `decide` must not keep state.
   */
  async claim<T>(decide: (ctx: ClaimContext) => Promise<ClaimDecision<T>> | ClaimDecision<T>): Promise<T> {
    const id = this.writable();
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLAIM, id]);
      await this.pull(c);
      const ctx: ClaimContext = {
        trials: this.replay.trials(),
        nextNumber: async () => {
          const r = await c.query<{ n: number }>('SELECT coalesce(max(number), -1) + 1 AS n FROM trialbook_trials WHERE study_id = $1', [id]);
          return Math.max(r.rows[0]!.n, this.replay.maxNumber + 1);
        },
        checkpoint: (trial, attempt) => checkpointInfo(c, id, trial, attempt),
      };
      const d = await decide(ctx);
      if (d.events.length) {
        await this.lockAppend(c);
        await this.insertEvents(c, d.events);
      }
      return d.result;
    }, 'claiming a trial');
  }

  /** Heart-beats a running trial. false: the trial is no longer ours (declared lost, taken over). */
  async heartbeat(trial: number, worker: string, attempt: number): Promise<boolean | undefined> {
    const id = this.writable();
    try {
      const r = await this.pool.query("UPDATE trialbook_trials SET heartbeat_at = now() WHERE study_id = $1 AND number = $2 AND worker = $3 AND attempt = $4 AND state = 'running'", [id, trial, worker, attempt]);
      return r.rowCount === 1;
    } catch (e) {
      if (isTransient(e)) return undefined; // unknown: the next beat tries again
      throw e;
    }
  }

  /**
   * Writes a trial's final event if this worker's attempt still owns it. Idempotent: a retry after
   * a commit whose answer was lost finds its own result and reports 'already-written'.
   */
  async finish(outcome: TrialEvent, worker: string, attempt: number): Promise<FinishOutcome> {
    const id = this.writable();
    return this.tx(async (c) => {
      await this.lockAppend(c);
      const r = await c.query<{ state: string; worker: string | null; attempt: number }>('SELECT state, worker, attempt FROM trialbook_trials WHERE study_id = $1 AND number = $2 FOR UPDATE', [id, outcome.trial]);
      const row = r.rows[0];
      if (!row || row.attempt !== attempt || row.worker !== worker) return 'taken-over';
      if (row.state === 'complete' || row.state === 'pruned') return 'already-written';
      if (row.state === 'failed' && outcome.type === 'failed') return 'already-written';
      await this.insertEvents(c, [outcome]);
      return 'written';
    }, `writing the result of trial ${outcome.trial}`);
  }

  /**
   * Uploads a finished attempt's checkpoint folder, if that attempt still owns the trial (a lost
   * worker's late upload is refused: 'taken-over'). One transaction: readers see all of it or none.
   */
  async putCheckpoint(trial: number, attempt: number, worker: string, dir: string, epoch?: number): Promise<StoredCheckpoint | 'taken-over'> {
    const id = this.writable();
    return this.tx(async (c) => {
      const r = await c.query<{ worker: string | null; attempt: number; state: string }>('SELECT worker, attempt, state FROM trialbook_trials WHERE study_id = $1 AND number = $2', [id, trial]);
      const row = r.rows[0];
      if (!row || row.worker !== worker || row.attempt !== attempt || row.state !== 'running') return 'taken-over' as const;
      return uploadCheckpoint(c, id, trial, attempt, dir, { ...(epoch !== undefined ? { epoch } : {}), worker });
    }, `storing the checkpoint of trial ${trial}`);
  }

  /** Uploads a checkpoint folder without an owning worker (migrate brings a local study's along). */
  async importCheckpoint(trial: number, attempt: number, dir: string, epoch?: number): Promise<StoredCheckpoint> {
    const id = this.writable();
    return this.tx((c) => uploadCheckpoint(c, id, trial, attempt, dir, { ...(epoch !== undefined ? { epoch } : {}), worker: 'migrate' }), `storing the checkpoint of trial ${trial}`);
  }

  /** The stored checkpoint of one attempt of a trial, if any. */
  async checkpoint(trial: number, attempt: number): Promise<StoredCheckpoint | undefined> {
    const id = this.requireStudy();
    return this.guard(() => checkpointInfo(this.pool, id, trial, attempt), `looking for the checkpoint of trial ${trial}`);
  }

  /** Copies a stored checkpoint into `dest` (checked, then renamed into place), from one snapshot. */
  async fetchCheckpoint(info: StoredCheckpoint, dest: string): Promise<void> {
    const id = this.requireStudy();
    await this.tx((client) => downloadCheckpoint(client, id, info, dest), `fetching the checkpoint of trial ${info.trial}`, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  /** Every stored checkpoint of the study, oldest trial first (none before schema version 2). */
  async checkpoints(): Promise<StoredCheckpoint[]> {
    if (this.studyId === undefined) return [];
    const id = this.studyId;
    const r = await this.guard(async () => {
      const t = await this.pool.query<{ t: string | null }>("SELECT to_regclass('trialbook_checkpoints') AS t");
      if (!t.rows[0]?.t) return { rows: [] };
      return this.pool.query<{ trial: number; attempt: number; epoch: number | null; bytes: string; files: StoredCheckpoint['files']; worker: string | null }>(
        'SELECT trial, attempt, epoch, bytes, files, worker FROM trialbook_checkpoints WHERE study_id = $1 ORDER BY trial, attempt',
        [id],
      );
    }, 'listing stored checkpoints');
    return r.rows.map((x) => ({ trial: x.trial, attempt: x.attempt, epoch: x.epoch, bytes: Number(x.bytes), files: x.files, worker: x.worker }));
  }

  /** Deletes stored checkpoints: every attempt of `trials`, or one attempt. Returns how many went. */
  async dropCheckpoints(trials: number[], attempt?: number): Promise<number> {
    const id = this.writable();
    if (!trials.length) return 0;
    const r = await this.guard(
      () =>
        attempt === undefined
          ? this.pool.query('DELETE FROM trialbook_checkpoints WHERE study_id = $1 AND trial = ANY($2::int[])', [id, trials])
          : this.pool.query('DELETE FROM trialbook_checkpoints WHERE study_id = $1 AND trial = ANY($2::int[]) AND attempt = $3', [id, trials, attempt]),
      'deleting checkpoints no promotion needs',
    );
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}

/** Records the study (its file's contents, the storage URL without its password) once. */
async function recordStudy(client: PoolClient, name: string, spec: unknown): Promise<void> {
  let json: string | null = null;
  if (spec !== undefined) {
    const copy = structuredClone(spec) as Record<string, unknown>;
    if (copy && typeof copy === 'object' && typeof copy.storage === 'string') copy.storage = redactUrl(copy.storage);
    json = JSON.stringify(copy);
  }
  await client.query('INSERT INTO trialbook_studies (name, spec) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, json]);
}
