/**
 * True when a PostgreSQL error says "this node is a standby and cannot do that": the
 * signature of a statement routed to a replica that should have gone to the primary.
 * 25006 is read_only_sql_transaction; some recovery refusals come as 0A000 or 55000
 * ("cannot access temporary or unlogged relations during recovery", "recovery is in progress").
 *
 * @example
 * isMisrouteError({ code: '25006' }) // true
 */
export function isMisrouteError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === '25006') return true;
  if ((code === '0A000' || code === '55000') && typeof message === 'string') {
    return message.includes('during recovery') || message.includes('recovery is in progress');
  }
  return false;
}

/** True for `BEGIN`/`COMMIT`/`ROLLBACK`/`SAVEPOINT`/`RELEASE`/`START TRANSACTION`/`END`: not data writes. */
export function statementIsTxControl(sql: string): boolean {
  const m = /^\s*([a-z]+)/i.exec(sql);
  if (m === null) return false;
  switch (m[1]!.toLowerCase()) {
    case 'begin': case 'commit': case 'rollback': case 'savepoint': case 'release': case 'start': case 'end': case 'abort':
      return true;
    default:
      return false;
  }
}
