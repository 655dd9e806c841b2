/** The real objective of a study's trials: a worker process per parallel slot. */
import { cpus } from 'node:os';
import { splitFromStudy } from '../core/split';
import type { LoadedStudy } from '../core/study';
import type { Objective } from './objective';
import { WorkerObjective } from './worker-objective';

/**
 * `parallel`: trials running at once on this machine. Each worker's BLAS then gets
 * cores/parallel threads (unless TRIALBOOK_BLAS_THREADS says otherwise): more threads than cores
 * makes every BLAS call wait for a descheduled thread (measured: a tiny step 130 → 1,500 ms).
 */
export function makeObjective(loaded: LoadedStudy, opts: { parallel?: number } = {}): Objective {
  const parallel = opts.parallel ?? 1;
  if (parallel <= 1 || process.env.TRIALBOOK_BLAS_THREADS) return new WorkerObjective(loaded);
  const threads = Math.max(1, Math.floor(cpus().length / parallel));
  return new WorkerObjective(loaded, { env: { ...process.env, TRIALBOOK_BLAS_THREADS: String(threads) } });
}

/**
 * The study's data, split (or the cached split reused) before any trial exists: a data file the
 * split refuses (one class, a missing column) is one error now, not a failure in every trial.
 */
export function checkDataBeforeTrials(loaded: LoadedStudy): void {
  splitFromStudy(loaded);
}
