/** Shared test helpers: temp folders, running the real CLI as a child process, shared data. */
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createServer } from 'node:net';
import assert from 'node:assert/strict';
import { isUserError } from '../src/core/errors';

export const repoRoot = resolve(__dirname, '..');
export const cliPath = join(repoRoot, 'bin', 'trialbook.js');
/** The tests' CLI (testing/cli.ts): every command, trials on the cheap quadratic objective. */
export const testCliPath = join(repoRoot, 'dist', 'testing', 'cli.js');
/** The tests' worker (testing/worker.ts): every real job, and the echo job. */
export const testWorkerPath = join(repoRoot, 'dist', 'testing', 'worker.js');

/** A fresh temporary folder, removed when the test finishes. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'tb-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Writes `<dir>/<name>.trialbook.json` (name `demo` unless given): a data file `d.tsv` with
 * columns text/label, vocab `v.txt`, the random tuner; `fields` sets or overrides any key.
 */
export function writeStudyFile(dir: string, fields: Record<string, unknown>): string {
  const name = typeof fields.name === 'string' ? fields.name : 'demo';
  const file = join(dir, `${name}.trialbook.json`);
  const study = { name, data: { file: 'd.tsv', textColumn: 'text', labelColumn: 'label' }, tokenizer: { vocab: 'v.txt' }, tuner: { type: 'random' }, ...fields };
  writeFileSync(file, JSON.stringify(study));
  // The default data and vocabulary exist (tune's pre-flight check refuses missing files).
  if (!fields.data && !existsSync(join(dir, 'd.tsv'))) writeFileSync(join(dir, 'd.tsv'), `text\tlabel\n${Array.from({ length: 100 }, (_, i) => `${i % 2 ? '좋아요' : '별로'} ${i}\t${i % 2}`).join('\n')}\n`);
  if (!fields.tokenizer && !existsSync(join(dir, 'v.txt'))) writeFileSync(join(dir, 'v.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n');
  return file;
}

/** Runs `fn`, which must throw a UserError (the kind shown to the user); returns its message. */
export function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got ${(e as Error)?.stack ?? e}`);
    return e.message;
  }
  assert.fail('expected an error');
}

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `trialbook ARGS` as a real child process (needs `npm run build` first). */
export function runCli(args: string[], opts: SpawnSyncOptions = {}, cli = cliPath): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 300_000, ...opts });
  return { code: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Runs the tests' CLI (trials on the quadratic objective; testing/quadratic-objective.ts reads TRIALBOOK_TEST_*). */
export function runTestCli(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  return runCli(args, opts, testCliPath);
}

/** Path under ../shared/, or undefined when it is absent (tests then skip with a message). */
export function sharedPath(rel: string): string | undefined {
  const p = resolve(repoRoot, '..', 'shared', rel);
  return existsSync(p) ? p : undefined;
}

export function skipMessage(rel: string): string {
  return `../shared/${rel} is absent: this test needs the shared data set`;
}

/** A TCP port free on 127.0.0.1 right now (for a server a test starts: a throwaway cluster, code-server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
