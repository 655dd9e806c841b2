/**
 * The PostgreSQL store against a real throwaway cluster: versioned schema under concurrent
 * openers, replay-compatibility with the journal, atomic claims from many connections, lost
 * heartbeats, idempotent results, studies kept apart, URL redaction.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers';
import { JournalStore } from '../../src/store/journal';
import { TcpProxy } from './tcp-proxy';
import { PostgresStore, redactUrl, SCHEMA_VERSION } from '../../src/store/postgres';
import { redactText } from '../../src/store/postgres/url';
import type { TrialEvent } from '../../src/store/types';
import { NO_POSTGRES, postgresInstalled, storeSuite } from './postgres-cluster';

test('redactUrl hides the password in URLs and in driver text', () => {
  assert.equal(redactUrl('postgresql://bob:s3cr%40t@db.example:5432/tb'), 'postgresql://bob:***@db.example:5432/tb');
  assert.equal(redactUrl('postgres://bob@db/tb'), 'postgres://bob@db/tb');
  assert.equal(redactUrl('postgresql://db/tb?user=bob&password=hunter2'), 'postgresql://db/tb?user=bob&password=***');
  assert.equal(redactUrl('postgresql://bob:p w@[bad'), 'postgresql://bob:***@[bad');
  assert.equal(redactText('failed for postgresql://a:zz@h/d (zz)', 'zz'), 'failed for postgresql://a:***@h/d (***)');
});

const installed = postgresInstalled();

describe('PostgreSQL store', { skip: installed ? false : NO_POSTGRES }, () => {
  const suite = storeSuite();
  const { open } = suite;

  test('schema: created once by concurrent openers, versioned, not re-applied', async () => {
    const url = await suite.cluster.freshDatabase();
    await Promise.all(Array.from({ length: 6 }, (_, i) => open(url, `s${i % 2}`)));
    const versions = await suite.cluster.query<{ version: number }>(url, 'SELECT version FROM trialbook_schema_version ORDER BY version');
    assert.deepEqual(versions.map((v) => v.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    const studies = await suite.cluster.query<{ name: string }>(url, 'SELECT name FROM trialbook_studies ORDER BY name');
    assert.deepEqual(studies.map((s) => s.name), ['s0', 's1']);
    await open(url, 's0');
    assert.equal((await suite.cluster.query(url, 'SELECT * FROM trialbook_schema_version')).length, SCHEMA_VERSION);
  });

  test('a database with a newer schema is refused with one clear line', async () => {
    const url = await suite.cluster.freshDatabase();
    await open(url, 'x');
    await suite.cluster.query(url, `INSERT INTO trialbook_schema_version (version) VALUES (${SCHEMA_VERSION + 1})`);
    await assert.rejects(PostgresStore.open(url, 'x'), (e: Error) => e.name === 'UserError' && /schema is version \d+, newer than this trialbook/.test(e.message) && !e.message.includes('trialbook-test-pw'));
  });

  test('replay-compatible: the same events give the same trials as the journal', async (t) => {
    const url = await suite.cluster.freshDatabase();
    const pg = await open(url, 'same');
    const journal = new JournalStore(tempDir(t), { onWarning: () => undefined });
    t.after(() => void journal.close());
    const at = 1_700_000_000_000;
    const m = (trial: number, epoch: number, val: number): TrialEvent => ({ type: 'metric', trial, metric: { epoch, train_loss: val * 0.9, val_loss: val, val_accuracy: 1 - val }, at });
    const events: TrialEvent[] = [
      { type: 'created', trial: 0, params: { learning_rate: 3e-5, batch_size: 64, freeze_body: false, opt: 'adam' }, epochs: 3, seed: 7, tag: { bracket: 1 }, at },
      { type: 'started', trial: 0, worker: 'a:1', attempt: 1, resume: false, at },
      m(0, 1, 0.9),
      m(0, 2, 0.7),
      { type: 'failed', trial: 0, reason: 'heartbeat lost', cause: 'worker a:1 sent no heartbeat for 61 s', at: at + 1 },
      { type: 'created', trial: 1, params: { learning_rate: 1e-5, batch_size: 32, freeze_body: true, opt: 'sgd' }, epochs: 3, seed: 8, resumeFrom: 0, at },
      { type: 'started', trial: 1, worker: 'b:2', attempt: 1, at },
      { type: 'pruned', trial: 1, epoch: 1, at },
      { type: 'started', trial: 0, worker: 'b:2', attempt: 2, resume: true, at: at + 2 },
      m(0, 2, 0.65),
      m(0, 3, 0.5),
      { type: 'finished', trial: 0, value: 0.5, values: [0.5, 0.52], result: { bestEpoch: 3, note: 'ünïcode ✓' }, at: at + 3 },
    ];
    for (const e of events) await journal.append(e);
    for (const e of events) await pg.append(e);
    const fromJournal = await journal.trials();
    assert.deepEqual(await pg.trials(), fromJournal);
    // A second reader, opened read-only, sees the same and follows new events.
    const reader = await open(url, 'same', { readOnly: true });
    assert.deepEqual(await reader.trials(), fromJournal);
    await pg.append({ type: 'created', trial: 2, params: { learning_rate: 2e-5, batch_size: 32, freeze_body: true, opt: 'sgd' }, at });
    assert.equal((await reader.trials()).length, 3);
    assert.deepEqual(Object.keys((await reader.trials())[0]!.params), ['learning_rate', 'batch_size', 'freeze_body', 'opt'], 'key order kept (json, not jsonb)');
  });

  test('claims from 8 connections at once: 80 trials, numbers 0..79, each exactly once', async () => {
    const url = await suite.cluster.freshDatabase();
    const workers = await Promise.all(Array.from({ length: 8 }, () => open(url, 'race')));
    const claimed: number[] = [];
    await Promise.all(
      workers.map(async (s, w) => {
        for (let i = 0; i < 10; i++) {
          const n = await s.claim(async (ctx) => {
            const n = await ctx.nextNumber();
            assert.equal(ctx.trials.length, n, 'every earlier claim is visible to the next one');
            return { events: [{ type: 'created', trial: n, params: { w }, at: Date.now() }, { type: 'started', trial: n, worker: `w${w}`, attempt: 1, at: Date.now() }], result: n };
          });
          claimed.push(n);
        }
      }),
    );
    assert.deepEqual([...claimed].sort((a, b) => a - b), [...Array(80).keys()]);
    const trials = await workers[0]!.trials();
    assert.equal(trials.length, 80);
    assert.ok(trials.every((t) => t.state === 'running' && t.attempts === 1));
  });

  test('a trial without heartbeats is marked failed (heartbeat lost); the old worker can no longer write it', async () => {
    const url = await suite.cluster.freshDatabase();
    const a = await open(url, 'hb');
    const b = await open(url, 'hb');
    const start = (s: PostgresStore, worker: string, n: number, attempt: number, create: boolean): Promise<void> =>
      s.claim(() => ({ events: [...(create ? [{ type: 'created', trial: n, params: { x: 1 }, at: Date.now() } as TrialEvent] : []), { type: 'started', trial: n, worker, attempt, at: Date.now() }], result: undefined }));
    await start(a, 'a', 0, 1, true);
    assert.equal(await a.heartbeat(0, 'a', 1), true);
    assert.deepEqual(await b.expireLost(60), [], 'fresh heartbeat: not lost');
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(await b.expireLost(0.5), [0]);
    let t = (await b.trials())[0]!;
    assert.equal(t.state, 'failed');
    assert.equal(t.failures?.[0]?.reason, 'heartbeat lost');
    assert.match(t.error!, /worker a sent no heartbeat for \d+ s/);
    assert.equal(await a.heartbeat(0, 'a', 1), false, 'the lost worker learns it no longer owns the trial');
    await start(b, 'b', 0, 2, false);
    const finished: TrialEvent = { type: 'finished', trial: 0, value: 1, result: {}, at: Date.now() };
    assert.equal(await a.finish(finished, 'a', 1), 'taken-over');
    assert.equal(await b.finish({ ...finished, value: 2 }, 'b', 2), 'written');
    assert.equal(await b.finish({ ...finished, value: 2 }, 'b', 2), 'already-written', 'a retried result is not written twice');
    t = (await a.trials())[0]!;
    assert.equal(t.state, 'complete');
    assert.equal(t.value, 2);
    assert.equal(t.attempts, 2);
    const finishedEvents = await suite.cluster.query(url, "SELECT 1 FROM trialbook_events WHERE type = 'finished'");
    assert.equal(finishedEvents.length, 1);
  });

  test('two studies in one database stay apart', async () => {
    const url = await suite.cluster.freshDatabase();
    const x = await open(url, 'alpha');
    const y = await open(url, 'beta');
    await x.append({ type: 'created', trial: 0, params: { s: 'alpha' }, at: 1 });
    await x.append({ type: 'created', trial: 1, params: { s: 'alpha' }, at: 1 });
    await y.append({ type: 'created', trial: 0, params: { s: 'beta' }, at: 1 });
    assert.deepEqual((await x.trials()).map((t) => t.params.s), ['alpha', 'alpha']);
    assert.deepEqual((await y.trials()).map((t) => t.params.s), ['beta']);
    assert.deepEqual(await x.studyNames(), ['alpha', 'beta']);
    const missing = await open(url, 'gamma', { readOnly: true });
    assert.deepEqual(await missing.trials(), [], 'a reader of an unknown study sees no trials and creates nothing');
    assert.deepEqual(await x.studyNames(), ['alpha', 'beta']);
  });

  test('a worker that joins while the server restarts waits for it, and says so', async (t) => {
    const url = await suite.cluster.freshDatabase();
    const proxy = TcpProxy.forUrl(url);
    await proxy.start();
    t.after(() => proxy.cut());
    proxy.hangUp = true;
    const warnings: string[] = [];
    const t0 = Date.now();
    setTimeout(() => (proxy.hangUp = false), 1200);
    const store = await PostgresStore.open(proxy.via(url), 'joins', { onWarning: (w) => warnings.push(w) });
    t.after(() => store.close());
    assert.ok(Date.now() - t0 >= 1000, 'it waited for the server');
    assert.deepEqual(await store.trials(), []);
    assert.ok(warnings.length >= 1 && warnings.every((w) => /^PostgreSQL at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/\w+ is restarting \(Connection terminated unexpectedly\); connecting again in/.test(w)), warnings.join('\n'));
    // A reader does not wait: it reports at once.
    proxy.hangUp = true;
    await assert.rejects(PostgresStore.open(proxy.via(url), 'joins', { readOnly: true }), /^UserError: cannot connect to PostgreSQL at .*Connection terminated unexpectedly/);
  });

  test('a wrong password or a dead port: one clear line, no password, no stack', async () => {
    const bad = new URL(suite.cluster.url);
    bad.password = 'not-the-pw-0042';
    await assert.rejects(PostgresStore.open(bad.toString(), 'x'), (e: Error) => {
      assert.equal(e.name, 'UserError');
      assert.match(e.message, /^cannot connect to PostgreSQL at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/trialbook: password authentication failed/);
      assert.ok(!e.message.includes('not-the-pw-0042') && !e.message.includes('\n'));
      return true;
    });
    await assert.rejects(PostgresStore.open('postgresql://u:pw@127.0.0.1:1/db', 'x'), /at postgresql:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: connect ECONNREFUSED.*is PostgreSQL running/);
    await assert.rejects(PostgresStore.open('postgresql://', 'x'), /storage: postgresql:\/\/ is not a usable PostgreSQL URL/);
  });
});
