import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers';
import { JournalStore } from '../../src/store/journal';
import type { RunEvent } from '../../src/protocol/run-events';
import { StudyRunner, type RunnerOptions } from '../../src/runner/study-runner';
import { TrialFailure } from '../../src/runner/failure-policy';
import { FakeObjective, TinyRandom } from './fakes';

beforeEach(() => FakeObjective.reset());

function setup(t: { after: (fn: () => void) => void }, over: Partial<RunnerOptions> = {}) {
  const dir = tempDir(t);
  const store = new JournalStore(dir, { lockSignals: false, onWarning: () => {} });
  const events: RunEvent[] = [];
  const opts: RunnerOptions = {
    store,
    source: new TinyRandom(),
    objective: () => new FakeObjective(),
    stateDir: dir,
    metric: 'val_loss',
    direction: 'minimize',
    epochs: 2,
    baseSeed: 42,
    maxTrials: 4,
    maxRetries: 1,
    maxConsecutiveFailures: 3,
    onEvent: (e) => events.push(e),
    ...over,
  };
  return { dir, store, events, opts };
}

test('runs the budget: every trial created, started, its epochs journaled, finished', async (t) => {
  const { dir, store, events, opts } = setup(t);
  const out = await new StudyRunner(opts).run();
  assert.equal(out.reason, 'done');
  assert.deepEqual(out.trials.map((x) => [x.number, x.state]), [[0, 'complete'], [1, 'complete'], [2, 'complete'], [3, 'complete']]);
  for (const tr of out.trials) {
    assert.equal(tr.curve.length, 2, 'metric events survive in the journal');
    assert.equal(tr.seed, 42);
    assert.ok(tr.value! > 0);
  }
  const types = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).type);
  assert.deepEqual(types.slice(0, 5), ['created', 'started', 'metric', 'metric', 'finished']);
  const best = Math.min(...out.trials.map((x) => x.value!));
  const last = events.filter((e) => e.type === 'trial-finished').at(-1);
  assert.equal(last?.type === 'trial-finished' && last.best.value, best);
  await store.close();
});

test('a failing trial is recorded with params and cause, retried, and the study goes on', async (t) => {
  const { store, events, opts } = setup(t, {
    objective: () => new FakeObjective((s) => (s.number === 1 ? { fail: new TrialFailure('loss is NaN at step 3', 'nan') } : {})),
    maxRetries: 2,
  });
  const out = await new StudyRunner(opts).run();
  assert.equal(out.reason, 'done');
  const t1 = out.trials.find((x) => x.number === 1)!;
  assert.equal(t1.state, 'failed');
  assert.equal(t1.attempts, 3, '1 run + 2 retries');
  assert.deepEqual(t1.failures?.map((f) => f.reason), ['nan', 'nan', 'nan']);
  assert.match(t1.error!, /^nan: loss is NaN at step 3/);
  assert.ok(typeof t1.params.learning_rate === 'number', 'failed trial keeps its hyperparameters');
  assert.equal(out.trials.filter((x) => x.state === 'complete').length, 3);
  const fails = events.filter((e) => e.type === 'trial-failed');
  assert.deepEqual(fails.map((e) => e.type === 'trial-failed' && e.willRetry), [true, true, false]);
  await store.close();
});

test('after max_consecutive_failed_trials failures in a row the study stops and says what to change', async (t) => {
  const { store, opts } = setup(t, {
    objective: () => new FakeObjective(() => ({ fail: new TrialFailure('loss is NaN', 'nan') })),
    maxRetries: 0,
    maxTrials: 10,
  });
  const out = await new StudyRunner(opts).run();
  assert.equal(out.reason, 'failures');
  assert.equal(out.trials.length, 3);
  assert.match(out.message, /3 trials in a row failed/);
  assert.match(out.message, /learning_rate/);
  assert.match(out.message, /max_consecutive_failed_trials/);
  await store.close();
});

test('a NaN objective value is a failure, not a result', async (t) => {
  const { store, opts } = setup(t, { objective: () => new FakeObjective(() => ({ value: NaN })), maxRetries: 0, maxTrials: 1 });
  const out = await new StudyRunner(opts).run();
  assert.equal(out.trials[0].state, 'failed');
  assert.equal(out.trials[0].failures?.[0].reason, 'nan');
  await store.close();
});

test('resume: a trial left running is marked interrupted and re-run from its checkpoint', async (t) => {
  const { dir, store, events, opts } = setup(t);
  await store.append({ type: 'created', trial: 0, params: { learning_rate: 2e-5 }, epochs: 2, seed: 42, at: 1 });
  await store.append({ type: 'finished', trial: 0, value: 0.5, result: {}, at: 2 });
  await store.append({ type: 'created', trial: 1, params: { learning_rate: 3e-5 }, epochs: 2, seed: 42, at: 3 });
  await store.append({ type: 'started', trial: 1, worker: 'w', at: 4 });
  mkdirSync(join(dir, 'trials', '1', 'checkpoint'), { recursive: true });
  writeFileSync(join(dir, 'trials', '1', 'checkpoint', 'epoch-1.json'), '{}');
  const out = await new StudyRunner(opts).run();
  assert.deepEqual(events[0], { type: 'recovered', trials: [1], reason: 'interrupted' });
  const first = FakeObjective.calls[0].spec;
  assert.equal(first.number, 1);
  assert.equal(first.resume, true);
  assert.equal(first.checkpointDir, join(dir, 'trials', '1', 'checkpoint'));
  assert.deepEqual(out.trials.map((x) => x.number), [0, 1, 2, 3]);
  assert.equal(out.trials[0].value, 0.5, 'finished trials are kept as they were');
  assert.deepEqual(out.trials[1].failures?.map((f) => f.reason), ['interrupted']);
  assert.equal(out.trials[1].state, 'complete');
  assert.equal(FakeObjective.calls.length, 3, 'the finished trial is not re-run');
  await store.close();
});

test('stop(): the running trial is cancelled, recorded, and re-run by the next run', async (t) => {
  const { store, opts } = setup(t, { objective: () => new FakeObjective(() => ({ hang: true })), maxTrials: 2 });
  const runner = new StudyRunner(opts);
  const p = runner.run();
  while (FakeObjective.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 30));
  runner.stop();
  const out = await p;
  assert.equal(out.reason, 'cancelled');
  assert.equal(out.trials.length, 1);
  assert.equal(out.trials[0].failures?.[0].reason, 'cancelled');
  const again = await new StudyRunner({ ...opts, objective: () => new FakeObjective() }).run();
  assert.equal(again.reason, 'done');
  assert.deepEqual(again.trials.map((x) => [x.number, x.state]), [[0, 'complete'], [1, 'complete']]);
  assert.equal(again.trials[0].attempts, 2);
  await store.close();
});

test('budget.parallel runs trials at once, one objective per slot', async (t) => {
  const slots = new Set<number>();
  const { store, opts } = setup(t, {
    parallel: 2,
    maxTrials: 6,
    objective: (slot) => {
      slots.add(slot);
      return new FakeObjective(() => ({}), 15);
    },
  });
  const out = await new StudyRunner(opts).run();
  assert.equal(out.trials.length, 6);
  assert.equal(new Set(out.trials.map((x) => x.number)).size, 6);
  assert.equal(FakeObjective.maxActive, 2);
  assert.deepEqual([...slots].sort(), [0, 1]);
  await store.close();
});

test('a promotion (resumeFrom) continues from a copy of the earlier trial\'s checkpoint', async (t) => {
  let n = 0;
  const source = {
    name: 'promote',
    suggest: () => (n++ === 0 ? { kind: 'trial' as const, params: { learning_rate: 1e-5 }, epochs: 1 } : n === 2 ? { kind: 'trial' as const, params: { learning_rate: 1e-5 }, epochs: 3, resumeFrom: 0 } : { kind: 'done' as const }),
  };
  const { dir, store, opts } = setup(t, { source, maxTrials: undefined });
  const first = new FakeObjective();
  const orig = first.run.bind(first);
  first.run = async (spec, hooks) => {
    if (spec.number === 0) {
      mkdirSync(spec.checkpointDir, { recursive: true });
      writeFileSync(join(spec.checkpointDir, 'w.bin'), 'weights');
    }
    return orig(spec, hooks);
  };
  const out = await new StudyRunner({ ...opts, objective: () => first }).run();
  assert.equal(out.trials.length, 2);
  assert.equal(out.trials[1].resumeFrom, 0);
  const spec = FakeObjective.calls[1].spec;
  assert.equal(spec.resume, true);
  assert.equal(readFileSync(join(spec.checkpointDir, 'w.bin'), 'utf8'), 'weights');
  assert.ok(existsSync(join(dir, 'trials', '0', 'checkpoint', 'w.bin')), 'the source checkpoint stays');
  await store.close();
});
