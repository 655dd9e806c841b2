/**
 * The `trialbook` CLI as the tests run it (bundled to dist/testing/cli.js): every command as
 * shipped, with trials run by the cheap quadratic objective instead of a training worker.
 */
import { toSearchSpace } from '../src/core/study';
import { run } from '../src/cli/main';
import { QuadraticObjective } from './quadratic-objective';

run(process.argv, { objective: (loaded) => new QuadraticObjective(toSearchSpace(loaded.study.searchSpace)) });
