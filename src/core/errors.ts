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
