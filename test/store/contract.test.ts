/**
 * The store contract (StudyStore, src/store/types.ts), one suite over every store as Optuna's
 * StorageTestCase is: append and replay, claim exclusivity, finish idempotence, lost-lease
 * expiry and resume state, against the local journal and a real (throwaway) PostgreSQL cluster.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalStore } from '../../src/store/journal';
import type { StudyStore, TrialEvent } from '../../src/store/types';
import { NO_POSTGRES, postgresInstalled, storeSuite } from './postgres-cluster';

interface Study {
  /** Opens the study the way a runner does (several at once where the store allows it). */
  writer(): Promise<StudyStore>;
  reader(): Promise<StudyStore>;
  /** The runner holding `s` goes away without a word (its process dies, its heartbeats stop). */
  lose(s: StudyStore): Promise<void>;
  /** The heartbeat timeout that makes a silent runner lost. */
  timeoutS: number;
  /** Several writers at once (PostgreSQL); the journal's lock admits one process. */
  concurrent: boolean;
}

const at = 1_700_000_000_000;
const created = (trial: number, x = trial): TrialEvent => ({ type: 'created', trial, params: { learning_rate: 1e-5 * (x + 1) }, epochs: 2, seed: 42, at });
const started = (trial: number, worker: string, attempt = 1): TrialEvent => ({ type: 'started', trial, worker, attempt, at });
const finished = (trial: number, value: number): TrialEvent => ({ type: 'finished', trial, value, result: { bestEpoch: 2 }, at });

/** Claims a new trial (created + started) for `worker`; its number. */
function claimNew(s: StudyStore, worker: string): Promise<number> {
  return s.claim(async (ctx) => {
    const n = await ctx.nextNumber();
    assert.equal(ctx.trials.length, n, 'every earlier claim is visible to the next one');
    return { events: [created(n), started(n, worker)], result: n };
  });
}

function contract(kind: string, open: () => Promise<Study>): void {
  describe(`store contract: ${kind}`, () => {
    test('append and replay: events become trials, the same for a reader and after reopening', async () => {
      const study = await open();
      const w = await study.writer();
      for (const e of [created(0), started(0, 'a'), { type: 'metric', trial: 0, metric: { epoch: 1, train_loss: 0.9, val_loss: 0.8 }, at } as TrialEvent, finished(0, 0.8), created(1), started(1, 'a'), { type: 'failed', trial: 1, reason: 'nan', cause: 'loss NaN', at } as TrialEvent]) await w.append(e);
      const trials = await w.trials();
      assert.deepEqual(trials.map((t) => [t.number, t.state, t.value, t.attempts]), [[0, 'complete', 0.8, 1], [1, 'failed', undefined, 1]]);
      assert.equal(trials[0]!.curve.length, 1);
      assert.equal(trials[1]!.error, 'nan: loss NaN');
      assert.deepEqual(await (await study.reader()).trials(), trials, 'a reader replays the same');
      trials[0]!.params.learning_rate = 1;
      assert.notEqual((await w.trials())[0]!.params.learning_rate, 1, 'trials() is a snapshot');
    });

    test('claims are exclusive: concurrent claims number trials 0..N-1, each once', async () => {
      const study = await open();
      const stores = study.concurrent ? await Promise.all([0, 1, 2, 3].map(() => study.writer())) : [await study.writer()];
      const numbers = (await Promise.all(Array.from({ length: 20 }, (_, i) => claimNew(stores[i % stores.length]!, `w${i % stores.length}`)))).sort((a, b) => a - b);
      assert.deepEqual(numbers, [...Array(20).keys()]);
      const trials = await stores[0]!.trials();
      assert.ok(trials.every((t) => t.state === 'running' && t.attempts === 1));
    });

    test('finish is idempotent, and only the attempt holding the trial writes it', async () => {
      const study = await open();
      const w = await study.writer();
      const n = await claimNew(w, 'a');
      assert.equal(await w.heartbeat(n, 'a', 1), true);
      assert.equal(await w.finish(finished(n, 0.5), 'b', 1), 'taken-over', 'another worker');
      assert.equal(await w.finish(finished(n, 0.5), 'a', 2), 'taken-over', 'another attempt');
      assert.equal(await w.finish(finished(n, 0.5), 'a', 1), 'written');
      assert.equal(await w.finish(finished(n, 0.5), 'a', 1), 'already-written', 'a retried result is not written twice');
      assert.equal(await w.heartbeat(n, 'a', 1), false, 'a finished trial has no lease');
      const [t] = await w.trials();
      assert.equal(t!.state, 'complete');
      assert.equal(t!.value, 0.5);
    });

    test('a lost lease expires: the trial fails for a cause that is not its own, and another runner re-runs it', async () => {
      const study = await open();
      const a = await study.writer();
      const n = await claimNew(a, 'a');
      await study.lose(a);
      const b = await study.writer();
      assert.deepEqual(await b.expireLost(study.timeoutS), [n]);
      assert.deepEqual(await b.expireLost(study.timeoutS), [], 'once');
      const lost = (await b.trials())[0]!;
      assert.equal(lost.state, 'failed');
      assert.ok(['interrupted', 'heartbeat lost'].includes(lost.failures![0]!.reason), lost.failures![0]!.reason);
      assert.equal(await b.heartbeat(n, 'a', 1), false, 'the lost attempt holds the trial no more');
      await b.claim(() => ({ events: [started(n, 'b', 2)], result: undefined }));
      if (study.concurrent) assert.equal(await a.finish(finished(n, 1), 'a', 1), 'taken-over', 'the lost runner cannot write over the re-run');
      assert.deepEqual(await b.expireLost(study.timeoutS), [], 'a trial this runner holds is not lost');
      assert.equal(await b.finish(finished(n, 2), 'b', 2), 'written');
      const t = (await b.trials())[0]!;
      assert.deepEqual([t.state, t.value, t.attempts, t.worker], ['complete', 2, 2, 'b']);
    });

    test('resume state: a store opened again holds the same trials and numbers on after them', async () => {
      const study = await open();
      const w = await study.writer();
      await claimNew(w, 'a');
      await w.finish(finished(0, 0.3), 'a', 1);
      await claimNew(w, 'a');
      const before = await w.trials();
      await w.close();
      const again = await study.writer();
      assert.deepEqual(await again.trials(), before);
      assert.equal(await claimNew(again, 'c'), 2);
    });
  });
}

contract(
  'journal',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-contract-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    return {
      writer: async () => new JournalStore(dir, { lockSignals: false, onWarning: () => undefined }),
      reader: async () => new JournalStore(dir, { readOnly: true, onWarning: () => undefined }),
      lose: (s) => s.close(),
      timeoutS: 60,
      concurrent: false,
    };
  },
);

describe('PostgreSQL', { skip: postgresInstalled() ? false : NO_POSTGRES }, () => {
  const suite = storeSuite();
  let n = 0;
  contract(
    'postgresql',
    async () => {
      const url = await suite.cluster.freshDatabase();
      const name = `contract${n++}`;
      return {
        writer: () => suite.open(url, name),
        reader: () => suite.open(url, name, { readOnly: true }),
        lose: () => new Promise((r) => setTimeout(r, 700)),
        timeoutS: 0.5,
        concurrent: true,
      };
    },
  );
});
