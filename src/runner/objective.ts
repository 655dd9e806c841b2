/**
 * What the study runner calls to run one trial. The real one trains in a worker process
 * (./worker-objective.ts); `QuadraticObjective` is a cheap deterministic stand-in, selected
 * only by the hidden env `TRIALBOOK_TEST_OBJECTIVE=quadratic`, so that crash/resume tests can
 * run the real CLI in milliseconds per epoch.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/fsutil';
import type { Metric, Params } from '../protocol/messages';
import type { SearchSpace } from '../tuners/types';

/** Why a trial failed, as stored in the journal's `failed.reason`. */
export type FailureReason = 'error' | 'nan' | 'oom' | 'crash' | 'user' | 'cancelled' | 'interrupted';

export class TrialFailure extends Error {
  constructor(message: string, readonly reason: FailureReason) {
    super(message);
    this.name = 'TrialFailure';
  }
}

export interface TrialSpec {
  number: number;
  params: Params;
  epochs: number;
  seed: number;
  /** Per-epoch checkpoints go here (`<studyStateDir>/trials/<n>/checkpoint`). */
  checkpointDir: string;
  /** Continue from the checkpoint in checkpointDir. */
  resume: boolean;
  /** Where the best epoch's model is saved, if the objective saves models. */
  saveBestTo?: string;
  attempt: number;
}

export interface ObjectiveHooks {
  onMetric(m: Metric): void;
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', text: string): void;
  /** Aborted when the trial must stop (pruned, cancelled); the run then rejects soon. */
  signal: AbortSignal;
}

export interface ObjectiveResult {
  /** The study's objective (e.g. best val loss). */
  value: number;
  /** Everything else worth keeping (TrainResult without its curve, which the journal has). */
  result: Record<string, unknown>;
}

export interface Objective {
  readonly name: string;
  run(spec: TrialSpec, hooks: ObjectiveHooks): Promise<ObjectiveResult>;
  close?(): Promise<void>;
}

export function hasCheckpoint(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => !f.startsWith('.'));
  } catch {
    return false;
  }
}

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
 * Test objective: a bowl with its minimum at 0.3 in every dimension, a learning curve that
 * improves as 0.5/epoch, seed noise, per-epoch checkpoints, and a short sleep per epoch so
 * that a kill lands mid-trial. `TRIALBOOK_TEST_FAIL=nan|oom|error` makes every trial fail;
 * `TRIALBOOK_TEST_OOM_ABOVE=L` makes max_seq_len > L run out of memory.
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
      resumedFromEpoch = (JSON.parse(readFileSync(ckpt, 'utf8')) as { epoch: number }).epoch;
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
      hooks.onMetric({ epoch: e, train_loss: loss * 0.9, val_loss: loss, val_accuracy: Math.max(0, 1 - loss / 2), elapsed_s: (Date.now() - t0) / 1000 });
      writeFileAtomic(ckpt, JSON.stringify({ epoch: e }));
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
