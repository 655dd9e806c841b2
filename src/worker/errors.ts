/**
 * How a job's failure becomes a protocol error. Only the message crosses the process boundary:
 * the stack stays in the worker (sent as a debug log line only with TRIALBOOK_DEBUG=1), so a
 * user never sees one.
 */
import { isEnvironmentFault, isUserError, looksLikeOom } from '../core/errors';
import type { WorkerError } from '../protocol/messages';

export type WorkerCause = WorkerError['cause'];
const CAUSES: readonly WorkerCause[] = ['user', 'environment', 'oom', 'nan', 'cancelled', 'crash', 'internal'];

/** Thrown inside the worker when a job notices it was cancelled. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** A job failed in the worker, or the worker itself died; `cause` says which kind of failure. */
export class WorkerJobError extends Error {
  override readonly name = 'WorkerJobError';
  override readonly cause: WorkerCause;
  readonly detail?: string;
  constructor(error: WorkerError) {
    super(error.message);
    this.cause = error.cause;
    this.detail = error.detail;
  }
}

export function isWorkerJobError(e: unknown): e is WorkerJobError {
  return e instanceof Error && e.name === 'WorkerJobError';
}

const NAN = /\bNaN\b|not a number|non-finite|diverged/i;

/**
 * Classifies an error thrown by a job. Errors may carry their own cause (the engine's
 * EngineError has `reason`: nan/oom/cancelled); otherwise the name and message decide.
 */
export function toWorkerError(e: unknown): WorkerError {
  if (isEnvironmentFault(e)) return { message: (e as Error).message, cause: 'environment' };
  if (isUserError(e)) return { message: e.message, cause: 'user' };
  const err = e instanceof Error ? e : new Error(String(e));
  // The engine's EngineError carries `reason`; other modules may set `cause` to a protocol cause.
  const tagged = err as { cause?: unknown; reason?: unknown };
  const own = typeof tagged.reason === 'string' ? tagged.reason : tagged.cause;
  if (typeof own === 'string' && (CAUSES as readonly string[]).includes(own)) {
    return { message: err.message, cause: own as WorkerCause };
  }
  if (/cancel/i.test(err.name)) return { message: err.message || 'cancelled', cause: 'cancelled' };
  if (/nan/i.test(err.name) || NAN.test(err.message)) return { message: err.message, cause: 'nan' };
  if (looksLikeOom(err)) return { message: err.message, cause: 'oom' };
  return { message: err.message || err.name || 'unknown error', cause: 'internal' };
}
