import { SplitKnexError } from '../errors';
import { redactText } from '../redact';

/**
 * What kind of failure an error is, as far as failure handling cares:
 * - `node`: the server could not be reached or dropped the connection (refused, reset,
 *   timed out connecting, terminated, shutting down, too many connections). Counts
 *   against the node's health; a read may be retried elsewhere; a write fails with
 *   `ESPLIT_PRIMARY_DOWN`.
 * - `pool`: no connection could be taken from our own pool in time (knex's acquire
 *   timeout, a pool destroyed while waiting). Says nothing about the server: a read may be
 *   retried elsewhere, nothing else changes.
 * - `undefined`: anything else, SQL errors (42P01, 23505, 25006, 57014…) above all. Never
 *   retried, never held against the node.
 */
export type ConnectionErrorKind = 'node' | 'pool' | undefined;

// Socket-level errno codes node raises when a server is unreachable or goes away.
const NODE_ERRNOS = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED', 'EHOSTDOWN', 'ENOTCONN', 'ERR_SOCKET_CLOSED',
]);
// SQLSTATEs that mean "this server cannot serve this connection": class 08 (connection
// exception) plus admin/crash shutdown, cannot-connect-now (starting up, shutting down,
// in recovery without hot standby) and too many connections.
const NODE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres raises these without a code when the socket ends or a connect times out.
const NODE_MESSAGES = [
  'Connection terminated',
  'Connection ended unexpectedly',
  'timeout expired',
  'not queryable',
  'socket hang up',
  'the database system is',
];

/**
 * Classifies an error (or its `cause`) as a node failure, a pool wait, or neither.
 *
 * @example
 * connectionErrorKind({ code: 'ECONNREFUSED' }) // 'node'
 * connectionErrorKind({ code: '42P01' })        // undefined: an SQL error
 */
export function connectionErrorKind(err: unknown, depth = 0): ConnectionErrorKind {
  if (err === null || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (err instanceof SplitKnexError) return err.code === 'ESPLIT_PRIMARY_DOWN' ? 'node' : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined) {
    if (NODE_ERRNOS.has(code) || NODE_SQLSTATES.has(code) || code.startsWith('08')) return 'node';
    // Any other SQLSTATE is an answer from a working server.
    if (/^[0-9A-Z]{5}$/.test(code)) return undefined;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'KnexTimeoutError') {
    // knex's `.timeout()` on a slow query is the query's fault, not the connection's.
    return message.includes('acquiring a connection') ? 'pool' : undefined;
  }
  if (message === 'aborted') return 'pool'; // knex's pool was destroyed (drained) while we waited.
  if (NODE_MESSAGES.some((m) => message.includes(m))) return 'node';
  if (Array.isArray(e.errors)) {
    // AggregateError from happy-eyeballs connects (::1 and 127.0.0.1 both refused).
    for (const inner of e.errors) if (connectionErrorKind(inner, depth + 1) === 'node') return 'node';
  }
  return connectionErrorKind(e.cause, depth + 1);
}

/**
 * True when the error says the node failed (not an SQL error, not a full pool).
 *
 * @example
 * isNodeFailure({ code: '57P01' }) // true: admin shutdown
 */
export function isNodeFailure(err: unknown): boolean {
  return connectionErrorKind(err) === 'node';
}

/**
 * A short, secret-free description of an error for `stats()` and events: the code and the
 * driver's message, without the SQL and bindings knex prefixes to query errors.
 *
 * @example
 * describeError(Object.assign(new Error('select 1 - Connection terminated unexpectedly'), { code: undefined }))
 * // 'Connection terminated unexpectedly'
 */
export function describeError(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const e = err as { code?: unknown; message?: unknown };
  let message = typeof e.message === 'string' ? e.message : String(err);
  // knex: `${sql with bindings} - ${driver message}`; bindings may hold personal data.
  const cut = message.lastIndexOf(' - ');
  if (cut >= 0) message = message.slice(cut + 3);
  if (message === '' && Array.isArray((err as { errors?: unknown }).errors)) {
    message = ((err as { errors: unknown[] }).errors).map((x) => describeError(x)).join('; ');
  }
  message = redactText(message);
  if (message.length > 200) message = `${message.slice(0, 197)}...`;
  const code = typeof e.code === 'string' && !message.includes(e.code) ? `${e.code}: ` : '';
  return `${code}${message}`;
}
