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
