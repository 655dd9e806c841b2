/** Picks the objective: the real worker, or the hidden test objective (env TRIALBOOK_TEST_OBJECTIVE=quadratic). */
import { UserError } from '../core/errors';
import { toSearchSpace, type LoadedStudy } from '../core/study';
import { QuadraticObjective, type Objective } from './objective';
import { WorkerObjective } from './worker-objective';

export function makeObjective(loaded: LoadedStudy): Objective {
  const test = process.env.TRIALBOOK_TEST_OBJECTIVE;
  if (test === 'quadratic') return new QuadraticObjective(toSearchSpace(loaded.study.searchSpace));
  if (test) throw new UserError(`TRIALBOOK_TEST_OBJECTIVE=${test}: unknown test objective (only "quadratic")`, 'E_USAGE');
  return new WorkerObjective(loaded);
}
