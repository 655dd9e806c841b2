/**
 * Errors the user can act on. The CLI and the extension print `message` as is, without a stack:
 * it must name the file, line or field and say what to do.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(message: string, readonly code: string = 'E_USER') {
    super(message);
  }
}

/** `file:line: reason`, the form every line-level data error takes. */
export function atLine(file: string, line: number, reason: string): UserError {
  return new UserError(`${file}:${line}: ${reason}`, 'E_DATA');
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}

/** A value as a message quotes it: JSON, cut after `max` characters (a 10 MB "field" is not a message). */
export function quoted(value: string, max = 60): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max)).slice(0, -1)}…" (${value.length.toLocaleString('en-US')} characters)`;
}

/** Several values quoted for a message: the first `max` of them, then how many more. */
export function quotedList(values: readonly string[], max = 12): string {
  const shown = values.slice(0, max).map((v) => quoted(v));
  return values.length > max ? `${shown.join(', ')}, … (${values.length - max} more)` : shown.join(', ');
}

/**
 * Out of memory as each layer words it (tfjs backends, the wasm heap, V8's report; on wasm a
 * failed allocation inside a kernel ends in a "memory access out of bounds" trap): the one test.
 */
export function looksLikeOom(e: unknown): boolean {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /out ?of ?memory|\bOOM\b|Array buffer allocation|Cannot enlarge memory|allocation failed|failed to allocate|Invalid (typed )?array length|Aborted\(|Cannot allocate|ResourceExhausted|Reached heap limit|memory access out of bounds/i.test(text);
}

/** System errors of the machine, not of the input. */
const ENVIRONMENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'ENOENT', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE']);

/**
 * A fault of the machine (a full disk, an I/O error, a file gone or not writable), raw or as the
 * E_IO UserError that names it: the user fixes it outside the study, and a re-run may then pass.
 */
export function isEnvironmentFault(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return isUserError(e) ? code === 'E_IO' : typeof code === 'string' && ENVIRONMENT_CODES.has(code);
}
