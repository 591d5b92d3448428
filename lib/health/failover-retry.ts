import { SplitKnexError } from '../errors';
import { isMisrouteError } from '../knex/pg-errors';
import type { Node } from '../route/node';
import type { RouteDecision, Router } from '../route/router';
import type { Statement } from '../route/statement';
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
  /** Writes that failed with `ESPLIT_WRITE_UNKNOWN` (in flight when the primary's connection broke). */
  writeUnknown?: number;
  /** Reads that lost the writer and ran again elsewhere (or on a new writer). */
  writerReadRetries?: number;
}

/** Options of {@link failoverRetry}. */
export interface FailoverRetryOptions {
  router: Router;
  counters: RetryCounters;
  /** Retry reads at all (`health.retryReads`). */
  retryReads: boolean;
  /**
   * The writer refused a write as a standby (25006): probe every node now, and resolve once
   * the writer's probe answered (so the election has seen its new role).
   */
  onWriterRefused?: (node: Node) => void | Promise<void>;
  /**
   * The writer failed a read with a connection error: resolve once the health checks have
   * decided about it (down, or up after all), so the read is routed on what they know.
   */
  confirmWriter?: (node: Node) => Promise<void>;
  /** The bounded hold of `failover.holdWritesMs`; `undefined` (or resolving false): no hold. */
  hold?: (statement: Statement) => Promise<boolean> | undefined;
}

/**
 * The retry policy of failure handling (after the core's misroute guard):
 *
 * - a read that failed with a connection error (see `connectionErrorKind`) on a replica is
 *   routed again through the router (so read policies still apply) to another replica that
 *   is `up`, else to the primary (or `ESPLIT_NO_REPLICA` with `fallback: 'error'`); if that
 *   other replica fails too, once more to the primary: no node is tried twice, and a read
 *   runs at most three times only when two replicas failed under it;
 * - a read that failed the same way on the writer (read-your-writes sent it there) waits for
 *   the health checks to confirm the writer's state, then is routed again: with the writer
 *   down, the read policies send it to a replica (one that replayed the scope's position when
 *   there is one), or it is held for the new writer (`failover.holdWritesMs`);
 * - never SQL errors, never a stream once it sent its first row
 *   (a failure while taking the connection is retried: no row has left), never a bound
 *   instance (`db.primary`, `db.replica(…)`: the user chose the node), never transactions
 *   (the runner does not ask retry policies inside them);
 * - a write the writer refused as a standby (25006) never ran: every node is probed at once
 *   (a promotion elsewhere is found now, not at the next interval) and, with a hold, the
 *   write waits for the new writer and runs there; without one it fails `ESPLIT_PRIMARY_DOWN`;
 * - a write that could not connect to the writer fails `ESPLIT_PRIMARY_DOWN` (the pipeline
 *   may hold it: it was never sent); a write whose connection broke while it ran fails
 *   `ESPLIT_WRITE_UNKNOWN`: it may have committed, so it is never run again.
 *
 * @example
 * const retry = failoverRetry({ router, counters, retryReads: true, hold: (s) => hold.wait(s) });
 */
export function failoverRetry(options: FailoverRetryOptions): RetryPolicy {
  const { router, counters } = options;
  return (f: FailedAttempt) => {
    const kind = connectionErrorKind(f.err);
    // The writer now, or the node a write was sent to just before a failover moved writes on.
    const onPrimary = f.node === router.currentWriter || (f.decision.access === 'write' && f.node.role === 'primary');
    if (onPrimary) {
      const nodeFailed = kind === 'node' || (kind === 'pool' && f.node.state === 'down');
      if (f.decision.access === 'write' && isMisrouteError(f.err)) return writerRefused(f, options);
      if (!nodeFailed) return undefined;
      if (f.decision.access === 'write' && f.phase === 'query' && !neverSent(f.err)) return writeUnknown(f, counters);
      // Not sent (no connection, or one that had died idle in the pool): held for a new writer by the pipeline, or here.
      if (f.decision.access === 'write' && f.phase === 'query') return writeNotSent(f, options);
      if (f.decision.access === 'read' && canRetryRead(f, options)) return readOffWriter(f, options);
      // `pool` on a down primary: our own drain aborted the wait (tarn's 'aborted').
      return primaryDown(f, counters, `could not ${f.phase === 'acquire' ? 'connect to' : 'finish on'} the primary (${f.node.name})`);
    }
    if (kind === undefined || !canRetryRead(f, options)) return undefined;
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

function canRetryRead(f: FailedAttempt, options: FailoverRetryOptions): boolean {
  return options.retryReads && f.decision.access === 'read' && !f.bound && f.attempt <= 2 && !(f.streaming && f.phase === 'query');
}

// A read-your-writes read lost the writer: once the health checks know whether the writer is
// down, route it again (replicas that replayed its position, or the writer after a hold).
async function readOffWriter(f: FailedAttempt, options: FailoverRetryOptions): Promise<RouteDecision | Error> {
  await options.confirmWriter?.(f.node);
  const why = `retry after ${describeError(f.err).slice(0, 80)} on ${f.node.name}`;
  for (;;) {
    try {
      const d = await options.router.route(f.statement, undefined, (n) => n === f.node);
      if (d.node === f.node && f.node.state !== 'up') throw primaryDown(f, options.counters, `the primary (${f.node.name}) failed a read and is not confirmed up`);
      options.counters.retries++;
      options.counters.writerReadRetries = (options.counters.writerReadRetries ?? 0) + 1;
      if (d.node.role === 'primary') options.counters.retriedOnPrimary++;
      return { ...d, reason: `${why}: ${d.reason}` };
    } catch (err) {
      const held = isPrimaryDown(err) ? options.hold?.(f.statement) : undefined;
      if (held === undefined || !(await held)) return withCause(err, f);
    }
  }
}

// 25006 from the writer: the write never ran. Probe everything now; with a hold, run it on the
// writer the election finds.
async function writerRefused(f: FailedAttempt, options: FailoverRetryOptions): Promise<RouteDecision | Error> {
  await options.onWriterRefused?.(f.node);
  const refusal = primaryDown(f, options.counters, `the primary (${f.node.name}) refused a write as read-only: it is a standby now`);
  if (f.attempt > 2) return refusal;
  for (;;) {
    const held = options.hold?.(f.statement);
    if (held === undefined || !(await held)) return refusal;
    try {
      const d = await options.router.route(f.statement);
      return { ...d, reason: `held for the new writer after ${f.node.name} refused it as read-only: ${d.reason}` };
    } catch (err) {
      if (!isPrimaryDown(err)) return withCause(err, f);
    }
  }
}

// A write that never reached a server: confirm the writer's state, then, with a hold, run it
// on the writer the health checks know (the same one if it answers again).
async function writeNotSent(f: FailedAttempt, options: FailoverRetryOptions): Promise<RouteDecision | Error> {
  const refusal = primaryDown(f, options.counters, `the connection to the primary (${f.node.name}) had failed before this write was sent`);
  if (f.attempt > 2) return refusal;
  await options.confirmWriter?.(f.node);
  for (;;) {
    try {
      const d = await options.router.route(f.statement);
      if (d.node !== f.node || f.node.state === 'up') return { ...d, reason: `retry after a dead connection on ${f.node.name} (not sent): ${d.reason}` };
    } catch (err) {
      if (!isPrimaryDown(err)) return withCause(err, f);
    }
    const held = options.hold?.(f.statement);
    if (held === undefined || !(await held)) return refusal;
  }
}

/**
 * True when the statement certainly never reached the server: knex's own refusals, and a
 * node-postgres client that had already lost its connection (it rejects before sending).
 */
function neverSent(err: unknown): boolean {
  if (err instanceof SplitKnexError) return true;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /is not queryable$/.test(message);
}

function writeUnknown(f: FailedAttempt, counters: RetryCounters): SplitKnexError {
  counters.writeUnknown = (counters.writeUnknown ?? 0) + 1;
  return new SplitKnexError('ESPLIT_WRITE_UNKNOWN',
    `split-knex: the connection to the primary (${f.node.name}) broke while this write ran; it may or may not have committed and was not run again: ${describeError(f.err)}`,
    { node: f.node.name, cause: f.err });
}

function isPrimaryDown(err: unknown): boolean {
  return err instanceof SplitKnexError && err.code === 'ESPLIT_PRIMARY_DOWN';
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
