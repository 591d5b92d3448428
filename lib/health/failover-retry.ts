import { SplitKnexError } from '../errors';
import { isMisrouteError } from '../knex/pg-errors';
import type { Node } from '../route/node';
import type { RouteDecision, Router } from '../route/router';
import type { FailedAttempt, RetryPolicy } from '../subsystem';
import { connectionErrorKind, describeError } from './connection-error';

/** Counters the retry policy keeps for `stats().health`. */
export interface RetryCounters {
  /** Reads run again on another node after a connection error. */
  retries: number;
  /** Of those, the ones that went to the primary (no other replica could take them). */
  retriedOnPrimary: number;
  /** Statements that failed with `ESPLIT_PRIMARY_DOWN`. */
  primaryDown: number;
}

/** Options of {@link failoverRetry}. */
export interface FailoverRetryOptions {
  router: Router;
  counters: RetryCounters;
  /** Retry reads at all (`health.retryReads`). */
  retryReads: boolean;
  /** Called when the writer refused a write as a standby: probe it now. */
  onWriterRefused?: (node: Node) => void;
}

/**
 * The retry policy of failure handling (after the core's misroute guard):
 *
 * - a read that failed with a connection error (see `connectionErrorKind`) on a replica is
 *   routed again through the router (so read policies still apply) to another replica that
 *   is `up`, else to the primary (or `ESPLIT_NO_REPLICA` with `fallback: 'error'`); if that
 *   other replica fails too, once more to the primary: no node is tried twice, and a read
 *   runs at most three times only when two replicas failed under it;
 * - never SQL errors, never a stream once it sent its first row
 *   (a failure while taking the connection is retried: no row has left), never a bound
 *   instance (`db.primary`, `db.replica(…)`: the user chose the node), never transactions
 *   (the runner does not ask retry policies inside them);
 * - a statement on the writer (every write, and reads that must see the primary) that
 *   failed with a connection error, or a write the writer refused as a standby, fails
 *   with `SplitKnexError` `ESPLIT_PRIMARY_DOWN` carrying the node name and the cause.
 *   Such a write is never retried: it may have committed before the connection broke.
 *
 * @example
 * core.retryPolicies.push(failoverRetry({ router, counters, retryReads: true }));
 */
export function failoverRetry(options: FailoverRetryOptions): RetryPolicy {
  const { router, counters } = options;
  return (f: FailedAttempt) => {
    const kind = connectionErrorKind(f.err);
    // The writer now, or the node a write was sent to just before a failover moved writes on.
    const onPrimary = f.node === router.currentWriter || (f.decision.access === 'write' && f.node.role === 'primary');
    if (onPrimary) {
      // `pool` on a down primary: our own drain aborted the wait (tarn's 'aborted').
      if (kind === 'node' || (kind === 'pool' && f.node.state === 'down')) return primaryDown(f, counters, `could not ${f.phase === 'acquire' ? 'connect to' : 'finish on'} the primary (${f.node.name})`);
      if (f.decision.access === 'write' && isMisrouteError(f.err)) {
        options.onWriterRefused?.(f.node);
        return primaryDown(f, counters, `the primary (${f.node.name}) refused a write as read-only: it is a standby now`);
      }
      return undefined;
    }
    if (kind === undefined || !options.retryReads || f.decision.access !== 'read') return undefined;
    if (f.bound || f.attempt > 2 || (f.streaming && f.phase === 'query')) return undefined;
    let routed: RouteDecision | Promise<RouteDecision>;
    try {
      // First retry: a healthy replica (a suspect one may be dying with the first), else the
      // primary. Second (the other replica failed too, e.g. all replicas died at once): the primary.
      const exclude = f.attempt === 1 ? (n: Node) => n === f.node || n.state !== 'up' : () => true;
      routed = router.route(f.statement, undefined, exclude);
    } catch (err) {
      return withCause(err, f);
    }
    const why = `retry after ${describeError(f.err).slice(0, 80)} on ${f.node.name}`;
    const adopt = (d: RouteDecision): RouteDecision => {
      counters.retries++;
      if (d.node.role === 'primary') counters.retriedOnPrimary++;
      return { ...d, reason: `${why}: ${d.reason}` };
    };
    return routed instanceof Promise ? routed.then(adopt, (err: unknown) => withCause(err, f)) : adopt(routed);
  };
}

function primaryDown(f: FailedAttempt, counters: RetryCounters, what: string): SplitKnexError {
  counters.primaryDown++;
  if (f.err instanceof SplitKnexError && f.err.code === 'ESPLIT_PRIMARY_DOWN') return f.err;
  return new SplitKnexError('ESPLIT_PRIMARY_DOWN', `split-knex: ${what}: ${describeError(f.err)}`, { node: f.node.name, cause: f.err });
}

// The router's own errors (ESPLIT_NO_REPLICA, ESPLIT_PRIMARY_DOWN) get the original failure as cause.
function withCause(err: unknown, f: FailedAttempt): Error {
  if (err instanceof SplitKnexError && err.cause === undefined) {
    return new SplitKnexError(err.code, err.message, { node: err.node ?? f.node.name, cause: f.err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
