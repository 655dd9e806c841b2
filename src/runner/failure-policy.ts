/**
 * The one failure policy of every run, local or shared: which failures re-run a trial, which
 * count toward its retries, and what to tell the user when trials keep failing.
 */
import type { FailureReason } from '../protocol/run-events';
import type { StoredTrial } from '../store/types';

export class TrialFailure extends Error {
  constructor(message: string, readonly reason: FailureReason) {
    super(message);
    this.name = 'TrialFailure';
  }
}

/** Failures that say nothing about the configuration: re-run without counting a retry. */
const NOT_THE_TRIALS_FAULT: ReadonlySet<string> = new Set<FailureReason>(['interrupted', 'cancelled', 'heartbeat lost']);

/** Failures whose cause lies outside the trial (its input, the machine): re-run once more after the user fixed it. */
const FIXABLE: ReadonlySet<string> = new Set<FailureReason>(['user', 'environment']);

export function notTheTrialsFault(reason: string): boolean {
  return NOT_THE_TRIALS_FAULT.has(reason);
}

function realFailures(t: StoredTrial): number {
  return (t.failures ?? []).filter((f) => !NOT_THE_TRIALS_FAULT.has(f.reason)).length;
}

/** Will this failed trial run again (now, or on resume)? */
export function willRerun(t: StoredTrial, maxRetries: number): boolean {
  if (t.state !== 'failed') return false;
  const last = t.failures?.at(-1)?.reason;
  if (last === 'user') return false; // bad input: the same run fails the same way until it is fixed
  if (last !== undefined && NOT_THE_TRIALS_FAULT.has(last)) return true;
  return realFailures(t) <= maxRetries;
}

/**
 * Failed trials a new run gives another attempt: those whose cause the user may have fixed since
 * (bad input, a full disk), or every failed one (`--retry-failed`). Keyed by their attempts, so
 * the extra attempt is spent once.
 */
export function retriable(trials: StoredTrial[], maxRetries: number, which: 'fixable' | 'all'): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of trials) {
    if (t.state !== 'failed' || willRerun(t, maxRetries)) continue;
    if (which === 'all' || FIXABLE.has(t.failures?.at(-1)?.reason ?? '')) out.set(t.number, t.attempts ?? 0);
  }
  return out;
}

/** What to tell the user when trials keep failing. */
export function failureAdvice(reasons: string[]): string {
  const tips = new Set<string>();
  for (const r of reasons) {
    if (r === 'nan') tips.add('the loss became NaN: lower the upper bound of searchSpace.learning_rate, or raise warmup_steps');
    else if (r === 'oom') tips.add('out of memory: lower the largest batch_size / max_seq_len in the search space, or raise training.memoryBudgetMiB if the machine has the memory');
    else if (r === 'crash') tips.add('the worker process died: check memory (dmesg) and the worker log');
    else if (r === 'user') tips.add('the trial input is invalid: fix the study file or data named in the error');
    else if (r === 'environment') tips.add('the machine failed the trial (disk full, an I/O error, a file gone): fix that named in the error');
    else tips.add('read the error of the last failed trial (trialbook report STUDY)');
  }
  return [...tips].join('; ');
}
