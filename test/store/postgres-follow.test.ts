/**
 * Following a shared study read-only (what the editor's explorer and dashboard show): the polling
 * policy, one status change per outage with the password hidden, recovery, and — against a real
 * throwaway cluster behind a proxy the test cuts — live trials, no writes, a lost and regained
 * connection, a wrong password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIMING, followErrorText, nextDelay, StudyFollower, type FollowState, type FollowedStore, type FollowTiming } from '../../src/store/postgres/follow';
import { PostgresStore } from '../../src/store/postgres';
import type { StoredTrial, TrialEvent } from '../../src/store/types';
import { NO_POSTGRES, postgresInstalled, startCluster, type TestCluster } from './postgres-cluster';
import { TcpProxy } from './tcp-proxy';

const FAST: Partial<FollowTiming> = { fastMs: 40, slowMs: 120, idleMs: 500, retryMs: 40, retryMaxMs: 160, pokeGapMs: 10, readRetryMs: 200 };

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records every state a follower reports. */
function recorder(): { states: FollowState[]; last(): FollowState | undefined; transitions(): string[] } {
  const states: FollowState[] = [];
  return {
    states,
    last: () => states[states.length - 1],
    transitions: () => states.map((s) => s.status).filter((s, i, all) => i === 0 || all[i - 1] !== s),
  };
}

test('nextDelay: fast while trials run or news came, doubling to slow when quiet, idle when unwatched, back-off offline', () => {
  const t = DEFAULT_TIMING;
  const base = { status: 'live' as const, changed: false, running: false, quiet: 0, failures: 0, watched: true };
  assert.equal(nextDelay(t, { ...base, changed: true, quiet: 9 }), t.fastMs);
  assert.equal(nextDelay(t, { ...base, running: true, quiet: 9 }), t.fastMs);
  assert.deepEqual([0, 1, 2, 3, 10].map((quiet) => nextDelay(t, { ...base, quiet })), [1000, 2000, 4000, 4000, 4000]);
  assert.equal(nextDelay(t, { ...base, running: true, watched: false }), t.idleMs, 'nobody looks: slow even while trials run');
  assert.deepEqual([1, 2, 3, 4, 5, 50].map((failures) => nextDelay(t, { ...base, status: 'offline', failures, watched: false })), [2000, 4000, 8000, 16000, 30000, 30000]);
});

test('followErrorText: one line, every URL password and the literal password hidden', () => {
  const url = 'postgresql://tb:s3cr%40t@db.example:5432/x';
  const e = new Error('cannot connect to postgresql://tb:s3cr%40t@db.example:5432/x: auth failed for s3cr@t\n    at Foo (bar.js:1:1)');
  assert.equal(followErrorText(e, url), 'cannot connect to postgresql://tb:***@db.example:5432/x: auth failed for ***');
});

/** A store whose reads fail while `down` is set; `events` are what a database would hold. */
function fakeStore(): { store: FollowedStore; down: { on: boolean; message: string }; add(t: StoredTrial): void; reads: () => number; closed: () => boolean } {
  const trials: StoredTrial[] = [];
  let seen = 0;
  let reads = 0;
  let closed = false;
  const down = { on: false, message: 'lost the connection to PostgreSQL at postgresql://u:***@h/d: ECONNREFUSED' };
  return {
    down,
    add: (t) => trials.push(t),
    reads: () => reads,
    closed: () => closed,
    store: {
      get exists() {
        return trials.length > 0;
      },
      async refresh() {
        reads++;
        if (down.on) throw new Error(down.message);
        const news = trials.length !== seen;
        seen = trials.length;
        return news;
      },
      async trials() {
        if (down.on) throw new Error(down.message);
        return structuredClone(trials);
      },
      async close() {
        closed = true;
      },
    },
  };
}

const trial = (n: number, state: StoredTrial['state'] = 'complete'): StoredTrial => ({ number: n, params: { x: n }, state, curve: [], ...(state === 'complete' ? { value: n } : {}), ...(state === 'running' ? { worker: `w${n}` } : {}) });

test('StudyFollower (fake store): the open fails until it works, one offline report per outage, recovery, poke, stop', async () => {
  const f = fakeStore();
  let opens = 0;
  const rec = recorder();
  const url = 'postgresql://u:hunter2@h/d';
  const follower = new StudyFollower({
    url,
    studyName: 's',
    timing: FAST,
    onChange: (s) => rec.states.push(s),
    open: async (u, name, opts) => {
      assert.equal(u, url);
      assert.equal(name, 's');
      assert.equal(opts.readOnly, true, 'a follower opens read-only');
      if (++opens < 3) throw new Error(`cannot connect to PostgreSQL at ${u}: refused (hunter2)`);
      return f.store;
    },
  });
  assert.equal(follower.current.status, 'connecting');
  assert.equal(follower.current.where, 'postgresql://u:***@h/d');
  follower.start();
  await waitFor('live', () => rec.last()?.status === 'live');
  assert.deepEqual(rec.transitions(), ['offline', 'live']);
  assert.equal(rec.states.filter((s) => s.status === 'offline').length, 1, 'two failed opens with the same message: one report');
  assert.equal(rec.states[0]!.message, 'cannot connect to PostgreSQL at postgresql://u:***@h/d: refused (***)');
  assert.deepEqual(rec.last()!.trials, []);
  assert.equal(rec.last()!.exists, false);

  // Trials arrive: reported without anybody asking.
  f.add(trial(0, 'running'));
  await waitFor('trial 0', () => rec.last()?.trials?.length === 1);
  assert.equal(rec.last()!.exists, true);

  // An outage: one report however many retries fail, the trials read last kept, then recovery.
  const n = rec.states.length;
  f.down.on = true;
  await waitFor('offline', () => rec.last()?.status === 'offline');
  const before = f.reads();
  await waitFor('three more failed reads', () => f.reads() >= before + 3);
  assert.equal(rec.states.length, n + 1, 'one report for the whole outage');
  assert.deepEqual(rec.last()!.trials!.map((t) => t.number), [0], 'the last trials read stay');
  assert.ok(rec.last()!.offlineSince);
  f.add(trial(1));
  f.down.on = false;
  await waitFor('back live with trial 1', () => (rec.last()?.status === 'live' && rec.last()?.trials?.length === 2) || undefined);
  assert.equal(rec.last()!.message, undefined);

  // Quiet polls are slow; poke reads at once.
  const g = fakeStore();
  const quiet = new StudyFollower({ url, studyName: 's', timing: { ...FAST, slowMs: 60_000, fastMs: 60_000, idleMs: 60_000 }, onChange: () => undefined, open: async () => g.store });
  quiet.start();
  await waitFor('the first read', () => quiet.current.status === 'live');
  const r0 = g.reads();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(g.reads(), r0, 'no read before the next (60 s) poll');
  quiet.poke();
  await waitFor('a read after poke', () => g.reads() > r0);
  await quiet.stop();

  await follower.stop();
  assert.ok(f.closed(), 'stop closes the store');
  const after = rec.states.length;
  f.add(trial(2));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(rec.states.length, after, 'nothing reported after stop');
});

describe('following, and connections dropped, on a real PostgreSQL behind a proxy', { skip: postgresInstalled() ? false : NO_POSTGRES }, () => {
  let cluster: TestCluster;
  const cleanup: Array<() => Promise<void> | void> = [];
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    for (const c of cleanup.reverse()) await c();
    cluster?.stop();
  });

  test('live through a proxy: nothing written, trials as workers write them, a cut connection, recovery', async () => {
    const url = await cluster.freshDatabase();
    const password = new URL(url).password;
    const proxy = TcpProxy.forUrl(url);
    await proxy.start();
    cleanup.push(() => proxy.cut());
    const rec = recorder();
    const warnings: string[] = [];
    const follower = new StudyFollower({ url: proxy.via(url), studyName: 'live', timing: FAST, onChange: (s) => rec.states.push(s), onWarning: (w) => warnings.push(w) });
    cleanup.push(() => follower.stop());
    follower.start();
    await waitFor('live', () => rec.last()?.status === 'live');
    assert.equal(rec.last()!.exists, false);
    assert.deepEqual(rec.last()!.trials, []);
    // Read-only: the follower created neither the schema nor the study.
    assert.equal((await cluster.query<{ t: string | null }>(url, "SELECT to_regclass('trialbook_studies')::text AS t"))[0]!.t, null);

    // A writer (as a worker would, directly) creates the study and runs trials.
    const writer = await PostgresStore.open(url, 'live', { onWarning: () => undefined });
    cleanup.push(() => writer.close());
    let at = Date.now();
    const run = async (n: number, value?: number): Promise<void> => {
      const events: TrialEvent[] = [
        { type: 'created', trial: n, params: { lr: n }, epochs: 2, at: at++ },
        { type: 'started', trial: n, worker: `w${n % 2}`, attempt: 1, at: at++ },
        { type: 'metric', trial: n, metric: { epoch: 1, train_loss: 1, val_loss: 1 }, at: at++ },
      ];
      if (value !== undefined) events.push({ type: 'finished', trial: n, value, result: {}, at: at++ });
      await writer.appendMany(events);
    };
    await run(0, 0.5);
    await run(1);
    const seen = await waitFor('two trials', () => (rec.last()?.trials?.length === 2 ? rec.last() : undefined));
    assert.equal(seen.exists, true);
    assert.deepEqual(seen.trials!.map((t) => [t.number, t.state]), [[0, 'complete'], [1, 'running']]);
    assert.equal(seen.trials![1]!.curve.length, 1);
    // The follower's own reads never added an event.
    assert.equal((await cluster.query<{ n: string }>(url, 'SELECT count(*) AS n FROM trialbook_events'))[0]!.n, '7');

    // The connection goes away: one offline report, password hidden; the trials read last stay.
    await proxy.cut();
    const off = await waitFor('offline', () => (rec.last()?.status === 'offline' ? rec.last() : undefined));
    assert.match(off.message!, /PostgreSQL at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/tb_test_/);
    assert.ok(!off.message!.includes(password), 'no password in the message');
    assert.ok(!JSON.stringify(rec.states).includes(password) && !warnings.join('\n').includes(password), 'no password anywhere it reports');
    assert.equal(off.trials!.length, 2);
    // Workers carry on meanwhile.
    await writer.append({ type: 'finished', trial: 1, value: 0.25, result: {}, at: at++ });
    await run(2, 0.75);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(rec.transitions().filter((s) => s === 'offline').length, 1, 'one outage, one offline state');

    // Back: live again, caught up with what was written meanwhile.
    await proxy.start();
    const back = await waitFor('live again with 3 trials', () => (rec.last()?.status === 'live' && rec.last()?.trials?.length === 3 ? rec.last() : undefined));
    assert.deepEqual(back.trials!.map((t) => [t.number, t.state, t.value]), [[0, 'complete', 0.5], [1, 'complete', 0.25], [2, 'complete', 0.75]]);
    assert.deepEqual(rec.transitions(), ['live', 'offline', 'live']);
  });

  test('a connection dropped while a transaction holds it is retried, not an unhandled error that kills the process', async () => {
    const url = await cluster.freshDatabase();
    const proxy = TcpProxy.forUrl(url);
    await proxy.start();
    cleanup.push(() => proxy.cut());
    const store = await PostgresStore.open(proxy.via(url), 'drop', { onWarning: () => undefined, retryBudgetMs: 20_000 });
    cleanup.push(() => store.close());
    let tries = 0;
    // The claim's connection is checked out and idle while decide() thinks: cut it right then.
    const n = await store.claim(async (ctx) => {
      if (++tries === 1) {
        await proxy.cut();
        await new Promise((r) => setTimeout(r, 300));
        await proxy.start();
      }
      const next = await ctx.nextNumber();
      return { events: [{ type: 'created', trial: next, params: { x: 1 }, at: Date.now() }], result: next };
    });
    assert.equal(n, 0);
    assert.ok(tries >= 2, 'the claim ran again on a fresh connection');
    assert.deepEqual((await store.trials()).map((t) => t.number), [0]);
  });

  test('a wrong password: offline with the advice, never the password; a bad host likewise', async () => {
    const u = new URL(cluster.url);
    u.password = 'not-the-password-42';
    const rec = recorder();
    const follower = new StudyFollower({ url: u.toString(), studyName: 'x', timing: FAST, onChange: (s) => rec.states.push(s) });
    cleanup.push(() => follower.stop());
    follower.start();
    const off = await waitFor('offline', () => (rec.last()?.status === 'offline' ? rec.last() : undefined));
    assert.match(off.message!, /^cannot connect to PostgreSQL at postgresql:\/\/trialbook:\*\*\*@127\.0\.0\.1:\d+\/trialbook: .*wrong user name or password/);
    assert.ok(!off.message!.includes('not-the-password-42'));
    assert.equal(off.where, u.toString().replace('not-the-password-42', '***'));
    await follower.stop();

    const refused = new StudyFollower({ url: 'postgresql://a:pw-xyz@127.0.0.1:1/db', studyName: 'x', timing: FAST, onChange: (s) => rec.states.push(s) });
    cleanup.push(() => refused.stop());
    refused.start();
    await waitFor('refused', () => (rec.last()?.message?.includes('nothing listens there') ? true : undefined));
    assert.ok(!rec.last()!.message!.includes('pw-xyz'));
  });
});
