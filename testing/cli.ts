/**
 * The `trialbook` CLI as the tests run it (bundled to dist/testing/cli.js): every command as
 * shipped, with trials run by the cheap quadratic objective instead of a training worker.
 */
import { run } from '../src/cli/main';
import { toSearchSpace } from '../src/tuners/space';
import { QuadraticObjective } from './quadratic-objective';

run(process.argv, { objective: (loaded) => new QuadraticObjective(toSearchSpace(loaded.study.searchSpace)), checkData: () => undefined });
