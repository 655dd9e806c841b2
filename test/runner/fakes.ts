/** Test doubles for the runner: a tiny random sampler and a scriptable in-process objective. */
import { Rng } from '../../src/core/rng';
import type { Metric } from '../../src/protocol/messages';
import type { StoredTrial } from '../../src/store/types';
import type { Suggestion, TrialRecord } from '../../src/tuners/types';
import { TrialFailure } from '../../src/runner/failure-policy';
import type { Objective, ObjectiveHooks, ObjectiveResult, TrialSpec } from '../../src/runner/objective';
import type { TrialSource } from '../../src/runner/study-runner';

/** Random learning rates; done after `max` trials (counted from history, so it resumes). */
export class TinyRandom implements TrialSource {
  readonly name = 'tiny-random';
  constructor(private readonly max = Infinity, private readonly seed = 1) {}
  suggest(history: TrialRecord[], _stored?: StoredTrial[]): Suggestion {
    if (history.length >= this.max) return { kind: 'done' };
    const rng = new Rng(this.seed + history.length);
    return { kind: 'trial', params: { learning_rate: 1e-5 * (1 + 9 * rng.next()), batch_size: [32, 64][rng.int(2)] } };
  }
}

export interface FakeCall {
  spec: TrialSpec;
  at: number;
}

/** Objective whose behaviour per call is scripted: value, failure, or wait-until-aborted. */
export class FakeObjective implements Objective {
  readonly name = 'fake';
  static calls: FakeCall[] = [];
  static active = 0;
  static maxActive = 0;
  constructor(
    private readonly behave: (spec: TrialSpec) => { value?: number; fail?: TrialFailure; hang?: boolean; epochs?: number } = () => ({}),
    private readonly epochMs = 5,
  ) {}
  async run(spec: TrialSpec, hooks: ObjectiveHooks): Promise<ObjectiveResult> {
    FakeObjective.calls.push({ spec, at: Date.now() });
    FakeObjective.active++;
    FakeObjective.maxActive = Math.max(FakeObjective.maxActive, FakeObjective.active);
    try {
      const b = this.behave(spec);
      const value = b.value ?? Number(spec.params.learning_rate) * 1e4;
      for (let e = 1; e <= spec.epochs; e++) {
        await new Promise((r) => setTimeout(r, this.epochMs));
        if (hooks.signal.aborted) throw new TrialFailure('cancelled', 'cancelled');
        if (b.fail && e === 1) throw b.fail;
        const m: Metric = { epoch: e, train_loss: value + 1 / e, val_loss: value + 1 / e };
        hooks.onMetric(m);
      }
      if (b.hang) await new Promise((_, rej) => hooks.signal.addEventListener('abort', () => rej(new TrialFailure('cancelled', 'cancelled'))));
      return { value: value + 1 / spec.epochs, result: { bestEpoch: spec.epochs } };
    } finally {
      FakeObjective.active--;
    }
  }
  static reset(): void {
    FakeObjective.calls = [];
    FakeObjective.active = 0;
    FakeObjective.maxActive = 0;
  }
}
