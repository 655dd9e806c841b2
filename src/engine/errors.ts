/** Failures of a trial that are not bad input: the worker reports `reason` as the job's cause. */
export type EngineFailure = 'nan' | 'oom' | 'cancelled';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(message: string, readonly reason: EngineFailure) {
    super(message);
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof Error && e.name === 'EngineError';
}
