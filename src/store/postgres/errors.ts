/**
 * What a PostgreSQL failure means for us: a transient connection problem (retry with back-off)
 * or something the user must fix (one clear line, never a stack, never the password).
 */
import { UserError } from '../../core/errors';
import { passwordOf, redactText, redactUrl } from './url';

interface PgLikeError {
  code?: string;
  message?: string;
}

const TRANSIENT_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Worth retrying: the server went away, restarts, is overloaded, or a transaction lost a race. */
export function isTransient(e: unknown): boolean {
  const err = e as PgLikeError;
  const code = err?.code ?? '';
  if (TRANSIENT_NODE.has(code)) return true;
  if (code.startsWith('08')) return true; // connection exception class
  if (['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code)) return true;
  const msg = String(err?.message ?? '');
  return /Connection terminated|connection timeout|Client has encountered a connection error|the database system is (starting up|shutting down)|Client was closed/i.test(msg);
}

/** The server is going down or coming up (a restart), as opposed to not being there at all. */
export function isRestarting(e: unknown): boolean {
  const err = e as PgLikeError;
  if (['57P01', '57P02', '57P03', 'ECONNRESET'].includes(err?.code ?? '')) return true;
  return /Connection terminated|the database system is (starting up|shutting down|in recovery mode)/i.test(String(err?.message ?? ''));
}

/** A connection-time failure as one line naming the (redacted) URL and what to do. */
export function connectError(url: string, e: unknown): UserError {
  const err = e as PgLikeError;
  const where = redactUrl(url);
  const secret = passwordOf(url);
  const detail = redactText(String(err?.message ?? e), secret);
  let advice: string;
  switch (err?.code) {
    case '28P01':
    case '28000':
      advice = 'wrong user name or password: check the credentials in the URL (or PGPASSWORD / ~/.pgpass)';
      break;
    case '3D000':
      advice = 'the database does not exist: create it (createdb) or fix the database name in the URL';
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      advice = 'unknown host name: check the host in the URL';
      break;
    case 'ECONNREFUSED':
      advice = 'nothing listens there: is PostgreSQL running, and are host and port right?';
      break;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      advice = 'the host does not answer: check the host, the port and the firewall';
      break;
    default:
      advice = 'check the URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE)';
  }
  return new UserError(`cannot connect to PostgreSQL at ${where}: ${detail} — ${advice}`, 'E_STORAGE');
}

/** A URL that cannot even be parsed. */
export function badUrl(url: string, reason: string): UserError {
  return new UserError(`storage: ${redactUrl(url)} is not a usable PostgreSQL URL (${reason}); expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE`, 'E_STORAGE');
}
