/**
 * Helpers for the shared-study tests that run `trialbook worker` / `tune` as child processes
 * (worker.test.ts, worker-promotions.test.ts) and for bench/postgres.bench.ts: the small study
 * file they run, the cheap test objective's environment, a non-blocking CLI child process, and
 * a study's events read back from the database.
 */
import { spawn } from 'node:child_process';
import { testCliPath, writeStudyFile as writeStudy } from '../helpers';
import { replay } from '../../src/store/replay';
import type { StoredTrial, TrialEvent } from '../../src/store/types';
import type { TestCluster } from '../store/postgres-cluster';

/** A study `name` with two float params, `tuner` (default random); `extra` overrides any key. */
export function writeStudyFile(dir: string, name: string, o: { tuner?: object; epochs: number; maxTrials: number; extra?: Record<string, unknown> }): string {
  const searchSpace = { learning_rate: { type: 'float', low: 1e-6, high: 1e-4, log: true }, dropout_rate: { type: 'float', low: 0, high: 0.5 } };
  return writeStudy(dir, { name, searchSpace, ...(o.tuner ? { tuner: o.tuner } : {}), training: { epochs: o.epochs }, budget: { maxTrials: o.maxTrials }, ...(o.extra ?? {}) });
}

/** The environment of the tests' cheap objective (testing/quadratic-objective.ts), `epochMs` per epoch. */
export const quadraticEnv = (epochMs: number): NodeJS.ProcessEnv => ({ ...process.env, TRIALBOOK_TEST_EPOCH_MS: String(epochMs) });

export interface CliProcess {
  stdout: () => string;
  stderr: () => string;
  /** Its JSON lines so far (the lines of stdout that start with `{`). */
  lines: () => Array<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(sig: NodeJS.Signals): void;
}

/** Starts `trialbook ARGS` (the tests' CLI unless `cli` says) as a child process without blocking the event loop. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cli = testCliPath): CliProcess {
  const c = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (err += d));
  return {
    stdout: () => out,
    stderr: () => err,
    lines: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    exit: new Promise((r) => c.on('exit', (code, signal) => r({ code, signal }))),
    kill: (s) => c.kill(s),
  };
}

/** Every event of study `name` in the database at `url`, in order, and the trials they replay to. */
export async function studyEvents(cluster: TestCluster, url: string, name: string): Promise<{ events: TrialEvent[]; trials: StoredTrial[] }> {
  const rows = await cluster.query<{ body: TrialEvent }>(url, 'SELECT e.body FROM trialbook_events e JOIN trialbook_studies s ON s.id = e.study_id WHERE s.name = $1 ORDER BY e.id', [name]);
  const events = rows.map((r) => r.body);
  return { events, trials: replay(events) };
}
