/**
 * The tests' stand-in for training: a cheap deterministic objective, so that crash, resume and
 * shared-study tests run the real CLI (testing/cli.ts) in milliseconds per epoch.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../src/core/errors';
import { writeFileAtomic } from '../src/core/fsutil';
import { TrialFailure } from '../src/runner/failure-policy';
import type { Objective, ObjectiveHooks, ObjectiveResult, TrialSpec } from '../src/runner/objective';
import type { SearchSpace } from '../src/tuners/types';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TrialFailure('cancelled', 'cancelled'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new TrialFailure('cancelled', 'cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Position of a value inside its dimension, 0..1 (log scale where declared). */
function unit(space: SearchSpace, name: string, v: unknown): number | undefined {
  const d = space.find((x) => x.name === name);
  if (!d) return undefined;
  if ((d.type === 'float' || d.type === 'int') && typeof v === 'number') {
    return d.log ? (Math.log(v) - Math.log(d.low)) / (Math.log(d.high) - Math.log(d.low)) : (v - d.low) / (d.high - d.low);
  }
  if (d.type === 'choice') return d.values.length > 1 ? d.values.indexOf(v as never) / (d.values.length - 1) : 0;
  if (d.type === 'bool') return v ? 1 : 0;
  return undefined;
}

/**
 * A bowl with its minimum at 0.3 in every dimension, a learning curve that improves as
 * 0.5/epoch, seed noise, per-epoch checkpoints, and a short sleep per epoch so that a kill
 * lands mid-trial. `TRIALBOOK_TEST_FAIL=nan|oom|error` makes every trial fail, `=enospc` makes
 * its checkpoint write hit a full disk (/dev/full); `TRIALBOOK_TEST_OOM_ABOVE=L` makes
 * max_seq_len > L run out of memory. A checkpoint that is not JSON is refused as the engine
 * refuses a damaged one.
 */
export class QuadraticObjective implements Objective {
  readonly name = 'quadratic';
  constructor(
    private readonly space: SearchSpace,
    private readonly epochMs = Number(process.env.TRIALBOOK_TEST_EPOCH_MS ?? 30),
    private readonly fail = process.env.TRIALBOOK_TEST_FAIL,
  ) {}

  async run(spec: TrialSpec, hooks: ObjectiveHooks): Promise<ObjectiveResult> {
    let q = 0.05;
    for (const [k, v] of Object.entries(spec.params)) {
      const u = unit(this.space, k, v);
      if (u !== undefined) q += (u - 0.3) ** 2;
    }
    // Sequence length: best at 128, and "out of memory" above TRIALBOOK_TEST_OOM_ABOVE.
    const len = Number(spec.params.max_seq_len ?? 0);
    if (len > 0) q += 0.05 * Math.log2(len / 128) ** 2;
    const oomAbove = Number(process.env.TRIALBOOK_TEST_OOM_ABOVE ?? Infinity);
    q += 0.01 * (((spec.seed * 2654435761) >>> 0) / 4294967296);
    const ckpt = join(spec.checkpointDir, 'quadratic.json');
    let first = 1;
    let resumedFromEpoch: number | undefined;
    if (spec.resume && existsSync(ckpt)) {
      try {
        resumedFromEpoch = (JSON.parse(readFileSync(ckpt, 'utf8')) as { epoch: number }).epoch;
      } catch (e) {
        throw new UserError(`${ckpt}: not valid JSON (${(e as Error).message}); delete it to start over`, 'E_CHECKPOINT');
      }
      first = resumedFromEpoch + 1;
    }
    const t0 = Date.now();
    let best = Infinity;
    let bestEpoch = 0;
    for (let e = first; e <= spec.epochs; e++) {
      await sleep(this.epochMs, hooks.signal);
      if (this.fail === 'oom' || len > oomAbove) throw new TrialFailure('out of memory even with micro-batch 1', 'oom');
      if (this.fail === 'error') throw new TrialFailure('injected failure', 'error');
      const loss = this.fail === 'nan' ? NaN : q + 0.5 / e;
      if (Number.isNaN(loss)) throw new TrialFailure(`loss became NaN at epoch ${e} (learning rate too high?)`, 'nan');
      if (loss < best) [best, bestEpoch] = [loss, e];
      // Checkpoint first, then report: a test that kills on the metric line finds the epoch saved.
      if (this.fail === 'enospc') writeFileSync('/dev/full', JSON.stringify({ epoch: e }));
      writeFileAtomic(ckpt, JSON.stringify({ epoch: e }));
      hooks.onMetric({ epoch: e, train_loss: loss * 0.9, val_loss: loss, val_accuracy: Math.max(0, 1 - loss / 2), elapsed_s: (Date.now() - t0) / 1000 });
    }
    if (bestEpoch === 0) {
      // Everything ran before the kill: the checkpoint's epoch is the last one.
      best = q + 0.5 / spec.epochs;
      bestEpoch = spec.epochs;
    }
    return {
      value: best,
      result: {
        bestValLoss: best,
        bestValAccuracy: Math.max(0, 1 - best / 2),
        bestEpoch,
        epochsRun: spec.epochs - first + 1,
        secondsPerEpoch: this.epochMs / 1000,
        peakRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        ...(resumedFromEpoch !== undefined ? { resumedFromEpoch } : {}),
      },
    };
  }
}
