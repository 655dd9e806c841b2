/** Helpers shared by the commands that run trials (tune, seqlen). */
import { constants } from 'node:os';
import { InvalidArgumentError } from 'commander';
import type { Metric, Params } from '../protocol/messages';
import type { StudyRunner } from './study-runner';

export function parsePositiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 1, got "${v}"`);
  return n;
}

export function formatParams(p: Params): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? (Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4).replace(/0+$/, '')) : String(v)}`)
    .join(' ');
}

export function formatMetric(m: Metric): string {
  const parts: string[] = [];
  for (const k of ['train_loss', 'val_loss', 'val_accuracy'] as const) {
    const v = m[k];
    if (typeof v === 'number') parts.push(`${k} ${v.toFixed(4)}`);
  }
  if (typeof m.elapsed_s === 'number') parts.push(`${m.elapsed_s.toFixed(1)} s`);
  return parts.join('  ');
}

let stopSignal: NodeJS.Signals | undefined;

/** Remembers the signal that stopped a run, for its exit code. */
export function noteStopSignal(sig: NodeJS.Signals): void {
  stopSignal ??= sig;
}

/**
 * Exit code of a run stopped cleanly by a signal: 128 + the signal's number, as a shell reports
 * a process that signal ended (Ctrl-C 130, SIGTERM 143), so a scheduler can tell it from success.
 */
export function stopExitCode(): number {
  return 128 + constants.signals[stopSignal ?? 'SIGINT'];
}

/**
 * Ctrl-C / SIGTERM: the first one stops cleanly (the running trial is cancelled and recorded so
 * --resume re-runs it); a second one exits at once (the lock is released on exit).
 */
export function attachStopSignals(runner: StudyRunner, quiet = false): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (runner.isStopping) {
      process.stderr.write(`trialbook: ${sig} again: exiting now; run again with --resume to continue\n`);
      process.exit(stopExitCode());
    }
    noteStopSignal(sig);
    if (!quiet) process.stderr.write(`\ntrialbook: ${sig}: cancelling the running trial and stopping (press Ctrl-C again to exit at once)\n`);
    runner.stop('cancelled');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
