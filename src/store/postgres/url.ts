/** PostgreSQL URLs: recognising them, and hiding the password whenever one is shown. */

export function isPostgresUrl(s: string | undefined): s is string {
  return typeof s === 'string' && /^postgres(ql)?:\/\//i.test(s);
}

/**
 * The URL with its password replaced by `***` (also `?password=` query parameters). Safe to put in
 * logs, errors, notes and the dashboard; anything that is not a URL comes back with every
 * `user:secret@` pattern masked.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/pass|secret|token/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@\s]*:)[^@]*@/g, '$1***@').replace(/(password=)[^&\s]*/gi, '$1***');
  }
}

/** Masks every PostgreSQL URL (and a literal secret, if given) inside free text, e.g. a driver message. */
export function redactText(text: string, secret?: string): string {
  let out = text.replace(/postgres(?:ql)?:\/\/[^\s'"]+/gi, (m) => redactUrl(m));
  if (secret) out = out.split(secret).join('***');
  return out;
}

export function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}
