/**
 * The tuners inside the real study runner and journal store (in-process fake objective):
 * tags survive the journal, promotions resume the right trial, a second runner on the same
 * journal (resume) continues the plan instead of starting over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers';
import { JournalStore } from '../../src/store/journal';
import { StudyRunner, type RunnerOptions } from '../../src/runner/study-runner';
import type { Objective, ObjectiveHooks, ObjectiveResult, TrialSpec } from '../../src/runner/objective';
import { createTuner } from '../../src/tuners';
import { hyperbandTag, planHyperband } from '../../src/tuners/hyperband';
import { repeatTag } from '../../src/tuners/repeats';
import type { SearchSpace } from '../../src/tuners/types';

const space: SearchSpace = [
  { type: 'float', name: 'learning_rate', low: 1e-6, high: 1e-4, log: true },
  { type: 'float', name: 'dropout_rate', low: 0, high: 0.5 },
];

/** Loss falls with epochs; the configuration decides where it ends. Stops after `limit` runs. */
class CurveObjective implements Objective {
  readonly name = 'curve';
  static runs = 0;
  constructor(private readonly limit = Infinity, private readonly onLimit?: () => void) {}
  async run(spec: TrialSpec, hooks: ObjectiveHooks): Promise<ObjectiveResult> {
    if (++CurveObjective.runs > this.limit) this.onLimit?.();
    const final = (Math.log10(Number(spec.params.learning_rate)) + 5) ** 2 + Number(spec.params.dropout_rate);
    let v = 0;
    for (let e = 1; e <= spec.epochs; e++) {
      await new Promise((r) => setImmediate(r));
      if (hooks.signal.aborted) throw new Error('cancelled');
      v = final + Math.exp(-0.5 * e);
      hooks.onMetric({ epoch: e, val_loss: v, train_loss: v });
    }
    return { value: v, result: {} };
  }
}

function options(dir: string, store: JournalStore, over: Partial<RunnerOptions>): RunnerOptions {
  return {
    store,
    source: createTuner({ type: 'hyperband', max_epochs: 9, factor: 3, hyperband_iterations: 1 }, space, { seed: 3, direction: 'minimize', epochs: 9 }),
    objective: () => new CurveObjective(),
    stateDir: dir,
    metric: 'val_loss',
    direction: 'minimize',
    epochs: 9,
    baseSeed: 42,
    maxRetries: 1,
    ...over,
  };
}

test('Hyperband through the study runner with 3 parallel slots, stopped midway and resumed', async (t) => {
  const dir = tempDir(t);
  CurveObjective.runs = 0;
  let store = new JournalStore(dir, { lockSignals: false, onWarning: () => {} });
  let runner: StudyRunner | undefined;
  runner = new StudyRunner(options(dir, store, { parallel: 3, objective: () => new CurveObjective(7, () => runner!.stop()) }));
  const first = await runner.run();
  assert.equal(first.reason, 'cancelled');
  await store.close();
  store = new JournalStore(dir, { lockSignals: false, onWarning: () => {} });
  const out = await new StudyRunner(options(dir, store, { parallel: 3 })).run();
  assert.equal(out.reason, 'done');
  const plan = planHyperband(9, 3, 1);
  const done = out.trials.filter((x) => x.state === 'complete');
  assert.equal(done.length, plan.runs, 'every planned run completed once, none lost or doubled');
  for (const b of plan.brackets) {
    b.rounds.forEach((r, i) => {
      const cell = done.filter((x) => hyperbandTag(x)?.bracket === b.s && hyperbandTag(x)?.round === i);
      assert.equal(cell.length, r.n, `bracket ${b.s} round ${i}`);
      for (const c of cell) {
        assert.equal(c.epochs, r.epochs);
        if (i > 0) {
          const from = out.trials.find((x) => x.number === c.resumeFrom)!;
          assert.equal(hyperbandTag(from)!.round, i - 1);
          assert.deepEqual(from.params, c.params);
        }
      }
    });
  }
  await store.close();
});

test('repeats through the runner: seeds differ per repeat, every value kept', async (t) => {
  const dir = tempDir(t);
  const store = new JournalStore(dir, { lockSignals: false, onWarning: () => {} });
  const source = createTuner({ type: 'tpe', initial_points: 2, candidates: 8 }, space, { seed: 1, direction: 'minimize', epochs: 2, maxTrials: 3, repeats: 2 });
  const out = await new StudyRunner(options(dir, store, { source, epochs: 2, parallel: 2 })).run();
  assert.equal(out.trials.length, 6);
  for (const tr of out.trials) assert.equal(tr.seed, 42 + repeatTag(tr)!.repeat);
  await store.close();
});
