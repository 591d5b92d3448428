import { isMisrouteError } from '../knex/pg-errors';
import type { RetryPolicy } from '../subsystem';
import type { Node } from './node';
import type { Router } from './router';

/**
 * The misroute guard: a read a replica refused as read-only (25006) is a misroute — count
 * it, say it, and run it once on the primary. Never for streams (rows may have been sent)
 * or bound builders (the user chose the node), nor when `routing.retryMisroutes` is false.
 *
 * @example
 * const policy = misrouteRetry(router, true, (node, sql, err, retried) => counters.misroutes++);
 */
export function misrouteRetry(
  router: Router,
  retryMisroutes: boolean,
  note: (node: Node, sql: string, err: { code?: string; message?: string }, retried: boolean) => void,
): RetryPolicy {
  return (f) => {
    if (f.phase !== 'query' || f.attempt > 1 || f.node.role !== 'replica' || !isMisrouteError(f.err)) return undefined;
    const retry = !f.streaming && !f.bound && retryMisroutes;
    note(f.node, f.statement.sql, f.err as { code?: string; message?: string }, retry);
    if (!retry) return undefined;
    const code = (f.err as { code?: string }).code;
    return { node: router.writer(), access: 'write', reason: `misroute retry: ${f.node.name} refused (${code})`, tables: f.decision.tables };
  };
}
