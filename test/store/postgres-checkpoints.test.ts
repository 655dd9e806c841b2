/**
 * Checkpoints in PostgreSQL against a real throwaway cluster: the schema upgrade from version 1
 * keeps existing studies, files of several chunks come back byte-identical and checked, a lost
 * worker's late upload is refused, a damaged copy never replaces the destination, deletes
 * cascade to the chunks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers';
import { PostgresStore, SCHEMA_VERSION } from '../../src/store/postgres';
import { CHUNK_BYTES } from '../../src/store/postgres/checkpoints';
import { MIGRATIONS } from '../../src/store/postgres/schema';
import type { TrialEvent } from '../../src/store/types';
import { NO_POSTGRES, postgresInstalled, storeSuite } from './postgres-cluster';

describe('checkpoints in PostgreSQL', { skip: postgresInstalled() ? false : NO_POSTGRES }, () => {
  const suite = storeSuite();
  const open = (url: string, name: string, readOnly = false): Promise<PostgresStore> => suite.open(url, name, { readOnly });

  /** A trial started by `worker` (attempt 1), as a claim would leave it. */
  async function running(s: PostgresStore, trial: number, worker: string, attempt = 1): Promise<void> {
    await s.claim(() => ({
      events: [...(attempt === 1 ? [{ type: 'created', trial, params: { x: trial }, epochs: 1, at: Date.now() } as TrialEvent] : []), { type: 'started', trial, worker, attempt, at: Date.now() }],
      result: undefined,
    }));
  }

  test('a version-1 database is upgraded to the current schema in place, its studies kept', async () => {
    assert.equal(SCHEMA_VERSION, 2);
    const url = await suite.cluster.freshDatabase();
    await suite.cluster.query(url, `CREATE TABLE trialbook_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()); ${MIGRATIONS[0]!.sql}; INSERT INTO trialbook_schema_version (version) VALUES (1)`);
    await suite.cluster.query(url, "INSERT INTO trialbook_studies (name) VALUES ('old')");
    await suite.cluster.query(url, `INSERT INTO trialbook_events (study_id, trial, type, body) SELECT id, 0, 'created', '{"type":"created","trial":0,"params":{"a":1},"at":1}' FROM trialbook_studies`);
    const reader = await open(url, 'old', true);
    assert.deepEqual(await reader.checkpoints(), [], 'a reader of a version-1 database sees no checkpoints and changes nothing');
    assert.deepEqual((await suite.cluster.query<{ version: number }>(url, 'SELECT version FROM trialbook_schema_version')).map((r) => r.version), [1]);
    const s = await open(url, 'old');
    assert.deepEqual((await suite.cluster.query<{ version: number }>(url, 'SELECT version FROM trialbook_schema_version ORDER BY version')).map((r) => r.version), [1, 2]);
    assert.deepEqual((await s.trials()).map((t) => [t.number, t.params]), [[0, { a: 1 }]]);
    assert.deepEqual(await s.checkpoints(), []);
  });

  test('a checkpoint folder of several chunks comes back byte-identical; caches and hidden files stay home', async (t) => {
    const url = await suite.cluster.freshDatabase();
    const s = await open(url, 'big');
    const dir = join(tempDir(t), 'checkpoint');
    mkdirSync(dir);
    const big = randomBytes(2 * CHUNK_BYTES + 12345);
    const exact = randomBytes(CHUNK_BYTES);
    writeFileSync(join(dir, 'checkpoint.safetensors'), big);
    writeFileSync(join(dir, 'exact.bin'), exact);
    writeFileSync(join(dir, 'empty.json'), '');
    writeFileSync(join(dir, 'checkpoint.json'), '{"epoch":3}');
    writeFileSync(join(dir, 'features-abc123.safetensors'), 'cache');
    writeFileSync(join(dir, '.trialbook-write-probe'), 'x');
    await running(s, 0, 'w1');
    const put = await s.putCheckpoint(0, 1, 'w1', dir, 3);
    assert.notEqual(put, 'taken-over');
    if (put === 'taken-over') return;
    assert.deepEqual(put.files.map((f) => f.name), ['checkpoint.json', 'checkpoint.safetensors', 'empty.json', 'exact.bin']);
    assert.equal(put.bytes, big.length + exact.length + 11);
    const chunks = await suite.cluster.query<{ file: string; n: string }>(url, 'SELECT file, count(*) AS n FROM trialbook_checkpoint_chunks GROUP BY file ORDER BY file');
    assert.deepEqual(chunks.map((c) => [c.file, Number(c.n)]), [['checkpoint.json', 1], ['checkpoint.safetensors', 3], ['empty.json', 1], ['exact.bin', 1]]);
    // Another machine: find it by (trial, attempt), fetch it into a folder that has something else in it.
    const other = await open(url, 'big');
    const info = await other.checkpoint(0, 1);
    assert.equal(info?.epoch, 3);
    assert.equal(await other.checkpoint(0, 2), undefined);
    const dest = join(tempDir(t), 'trials', '5', 'checkpoint');
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'stale.bin'), 'old');
    await other.fetchCheckpoint(info!, dest);
    assert.deepEqual(readdirSync(dest).sort(), ['checkpoint.json', 'checkpoint.safetensors', 'empty.json', 'exact.bin']);
    assert.ok(readFileSync(join(dest, 'checkpoint.safetensors')).equals(big));
    assert.ok(readFileSync(join(dest, 'exact.bin')).equals(exact));
    assert.equal(readFileSync(join(dest, 'empty.json'), 'utf8'), '');
    assert.deepEqual(readdirSync(join(dest, '..')), ['checkpoint'], 'no temporary folder left behind');
  });

  test('only the attempt that owns the trial may store its checkpoint; attempts never replace each other', async (t) => {
    const url = await suite.cluster.freshDatabase();
    const s = await open(url, 'own');
    const dir = join(tempDir(t), 'ck');
    mkdirSync(dir);
    writeFileSync(join(dir, 'quadratic.json'), '{"epoch":1}');
    await running(s, 0, 'lost-worker');
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(await s.expireLost(0.3), [0]);
    await running(s, 0, 'new-worker', 2);
    assert.equal(await s.putCheckpoint(0, 1, 'lost-worker', dir, 1), 'taken-over', 'the lost attempt cannot upload late');
    assert.equal(await s.putCheckpoint(0, 2, 'lost-worker', dir, 1), 'taken-over', 'nor under the new attempt');
    const mine = await s.putCheckpoint(0, 2, 'new-worker', dir, 1);
    assert.notEqual(mine, 'taken-over');
    // migrate imports without an owner; it stores under the attempt it is given, beside the others.
    await s.importCheckpoint(0, 1, dir, 1);
    assert.deepEqual((await s.checkpoints()).map((c) => [c.trial, c.attempt, c.worker]), [[0, 1, 'migrate'], [0, 2, 'new-worker']]);
    assert.equal(await s.dropCheckpoints([0], 1), 1);
    assert.deepEqual((await s.checkpoints()).map((c) => c.attempt), [2]);
  });

  test('a damaged or vanished copy fails the fetch and leaves the destination as it was; deletes take the chunks along', async (t) => {
    const url = await suite.cluster.freshDatabase();
    const s = await open(url, 'bad');
    const dir = join(tempDir(t), 'ck');
    mkdirSync(dir);
    writeFileSync(join(dir, 'checkpoint.json'), '{"epoch":2}');
    writeFileSync(join(dir, 'checkpoint.safetensors'), randomBytes(1000));
    await running(s, 0, 'w');
    await s.putCheckpoint(0, 1, 'w', dir, 2);
    const info = (await s.checkpoint(0, 1))!;
    const dest = join(tempDir(t), 'dest');
    mkdirSync(dest);
    writeFileSync(join(dest, 'keep.json'), 'mine');
    await suite.cluster.query(url, "UPDATE trialbook_checkpoint_chunks SET data = decode('00ff', 'hex') WHERE file = 'checkpoint.safetensors'");
    await assert.rejects(s.fetchCheckpoint(info, dest), (e: Error) => e.name === 'UserError' && /fetching the checkpoint of trial 0: checkpoint\.safetensors arrived damaged \(2 bytes, sha256 [0-9a-f]{12}…; expected 1000 bytes/.test(e.message) && !e.message.includes('trialbook-test-pw'));
    assert.deepEqual(readdirSync(dest), ['keep.json']);
    await suite.cluster.query(url, "DELETE FROM trialbook_checkpoint_chunks WHERE file = 'checkpoint.json'");
    await assert.rejects(s.fetchCheckpoint(info, dest), /chunk 0 of checkpoint\.json is missing/);
    assert.deepEqual(readdirSync(dest), ['keep.json']);
    assert.ok(!existsSync(join(dest, '..', '.dest.fetch-' + process.pid)));
    assert.equal(await s.dropCheckpoints([0]), 1);
    assert.deepEqual(await suite.cluster.query(url, 'SELECT 1 FROM trialbook_checkpoint_chunks'), [], 'chunks deleted with their checkpoint');
  });
});
