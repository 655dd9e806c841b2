/** Picks the objective: the real worker, or the hidden test objective (env TRIALBOOK_TEST_OBJECTIVE=quadratic). */
import { cpus } from 'node:os';
import { UserError } from '../core/errors';
import { splitFromStudy } from '../core/split';
import { toSearchSpace, type LoadedStudy } from '../core/study';
import { QuadraticObjective, type Objective } from './objective';
import { WorkerObjective } from './worker-objective';

/**
 * `parallel`: trials running at once on this machine. Each worker's BLAS then gets
 * cores/parallel threads (unless TRIALBOOK_BLAS_THREADS says otherwise): more threads than cores
 * makes every BLAS call wait for a descheduled thread (measured: a tiny step 130 → 1,500 ms).
 */
export function makeObjective(loaded: LoadedStudy, opts: { parallel?: number } = {}): Objective {
  const test = process.env.TRIALBOOK_TEST_OBJECTIVE;
  if (test === 'quadratic') return new QuadraticObjective(toSearchSpace(loaded.study.searchSpace));
  if (test) throw new UserError(`TRIALBOOK_TEST_OBJECTIVE=${test}: unknown test objective (only "quadratic")`, 'E_USAGE');
  const parallel = opts.parallel ?? 1;
  if (parallel <= 1 || process.env.TRIALBOOK_BLAS_THREADS) return new WorkerObjective(loaded);
  const threads = Math.max(1, Math.floor(cpus().length / parallel));
  return new WorkerObjective(loaded, { env: { ...process.env, TRIALBOOK_BLAS_THREADS: String(threads) } });
}

/**
 * The study's data, split (or the cached split reused) before any trial exists: a data file the
 * split refuses (one class, a missing column) is one error now, not a failure in every trial.
 * The hidden test objective reads no data.
 */
export function checkDataBeforeTrials(loaded: LoadedStudy): void {
  if (!process.env.TRIALBOOK_TEST_OBJECTIVE) splitFromStudy(loaded);
}
