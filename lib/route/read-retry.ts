import { debugLogger } from '../debug-log';
import { redactText, sqlShown } from '../redact';
import type { FailedAttempt } from '../subsystem';
import type { RouteDecision, Router } from './router';

const debugRoute = debugLogger('split-knex:route');

/** Why a read that failed on a replica ran again on the primary. */
export type ReadRetryCause = 'temp-relation' | 'schema-lag';

/**
 * The payload of the `read-retry` event: a replica answered a read with an error that says
 * "this node does not have the object yet" (a temporary table, or a migration it has not
 * replayed), and split-knex ran the read once more on the primary.
 *
 * @example
 * db.on('read-retry', (e: ReadRetryEvent) => log.info(`${e.cause}: ${e.node} -> ${e.retriedOn} (${e.code})`));
 */
export interface ReadRetryEvent {
  /** The replica that answered with the error. */
  node: string;
  /** The node the read runs on next (the primary). */
  retriedOn: string;
  cause: ReadRetryCause;
  /** The replica's SQLSTATE: 42P01, 42703 or 42883. */
  code: string;
  /** The replica's message (credentials hidden). */
  message: string;
  sql: string;
  /** For `schema-lag`: the replica's replay position and the primary's, as `X/Y`. */
  replayLsn?: string;
  primaryLsn?: string;
}

/**
 * True for a failed attempt a "missing object" retry may take at all: a read, on a replica,
 * its first try, failed while it ran — never a write, a stream (rows or its error may
 * already have reached the consumer), a bound builder (`db.replica(…)`: the user chose the
 * node), a schema builder; statements inside a transaction never reach retry policies.
 *
 * @example
 * if (!isRetryableReplicaRead(failure)) return undefined;
 */
export function isRetryableReplicaRead(f: FailedAttempt): boolean {
  return f.phase === 'query' && f.attempt === 1 && f.node.role === 'replica' && f.decision.access === 'read'
    && !f.streaming && !f.bound && f.statement.kind !== 'schema';
}

/**
 * The decision that runs a failed replica read on the primary, with the `read-retry` event
 * for it; `undefined` when the writer may not take statements now (known down, a standby):
 * the replica's error then stands.
 *
 * @example
 * const next = retryOnPrimary(router, failure, 'temp-relation', 'temporary relation "t" missing on replica1');
 */
export function retryOnPrimary(
  router: Router, f: FailedAttempt, cause: ReadRetryCause, why: string, positions: Pick<ReadRetryEvent, 'replayLsn' | 'primaryLsn'> = {},
): { decision: RouteDecision; event: ReadRetryEvent } | undefined {
  if (router.writerRefusal() !== undefined) return undefined;
  const node = router.currentWriter;
  const err = f.err as { code?: unknown; message?: unknown };
  const event: ReadRetryEvent = {
    node: f.node.name, retriedOn: node.name, cause,
    code: typeof err.code === 'string' ? err.code : '',
    message: redactText(typeof err.message === 'string' ? err.message : String(f.err)),
    sql: sqlShown(f.statement.sql),
    ...positions,
  };
  if (debugRoute.enabled) debugRoute('%s retry: %s -> %s (%s): %s', cause, f.node.name, node.name, why, f.statement.sql.replace(/%/g, '%%').slice(0, 200));
  return { decision: { node, access: 'read', reason: `${cause} retry: ${why}`, tables: f.decision.tables }, event };
}
