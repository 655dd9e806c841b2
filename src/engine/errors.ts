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

/** Maps any error out of the engine to the worker protocol's cause. */
export function failureCause(e: unknown): 'user' | 'oom' | 'nan' | 'cancelled' | 'internal' {
  if (isEngineError(e)) return e.reason;
  if (e instanceof Error && e.name === 'UserError') return 'user';
  if (looksLikeOom(e)) return 'oom';
  return 'internal';
}

/**
 * Allocation failures as tfjs backends and V8 word them. A wasm trap ("memory access out of
 * bounds") counts too: on the wasm backend it is what a failed allocation inside a kernel ends in.
 */
export function looksLikeOom(e: unknown): boolean {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /out of memory|OOM|Array buffer allocation failed|Cannot enlarge memory|allocation failed|failed to allocate|Invalid typed array length|Aborted\(|memory access out of bounds/i.test(m);
}
