import { isRetryableReplicaRead, retryOnPrimary, type ReadRetryEvent } from '../route/read-retry';
import type { Node } from '../route/node';
import type { Router } from '../route/router';
import type { RetryPolicy } from '../subsystem';
import type { ReplicaPositions } from './replica-positions';
import { formatLsn } from '../wal-position';

/**
 * SQLSTATEs a replica gives for an object a migration created that it has not replayed yet:
 * undefined_table (42P01), undefined_column (42703), undefined_function (42883),
 * undefined_object (42704: a type, e.g. `'x'::new_enum`), invalid_schema_name (3F000).
 */
export const SCHEMA_LAG_CODES: ReadonlySet<string> = new Set(['42P01', '42703', '42883', '42704', '3F000']);

/** Options of {@link schemaLagRetry}. */
export interface SchemaLagRetryOptions {
  router: Router;
  /** The consistency subsystem's positions (read, and refreshed once per failure). */
  positions: Pick<ReplicaPositions, 'replayed' | 'primaryPosition' | 'pollAll'>;
  /** Counts the retry (`stats().consistency.schemaLagRetries`). */
  count: () => void;
  /** Emits `read-retry`. */
  emit: (event: ReadRetryEvent) => void;
}

/**
 * The schema-lag guard (the consistency subsystem's retry stage): right after a migration,
 * another instance may read from a replica that has not replayed it and get 42P01 / 42703 /
 * 42883 (or 42704 / 3F000) for the new objects. When a replica answers one of these while
 * it is behind the primary — both positions read again right after the failure, so a
 * migration made elsewhere since the last poll counts — the read runs once more on the
 * primary (counted, `read-retry` with `cause: 'schema-lag'`). A replica that has replayed
 * the primary's position (or whose position is unknown) gave an honest error: it reaches
 * the caller unchanged. Never for writes, streams, bound builders or transactions.
 *
 * @example
 * retry: schemaLagRetry({ router, positions, count: () => counters.schemaLagRetries++, emit: (e) => ctx.emit('read-retry', e) }),
 */
export function schemaLagRetry(options: SchemaLagRetryOptions): RetryPolicy {
  const { router, positions } = options;
  // One fresh round of positions shared by the reads that fail together (a deploy's burst).
  let round: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    round ??= positions.pollAll().finally(() => { round = undefined; });
    return round;
  };
  return async (f) => {
    const code = (f.err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !SCHEMA_LAG_CODES.has(code) || !isRetryableReplicaRead(f)) return undefined;
    await refresh();
    const lag = behind(positions, f.node);
    if (lag === undefined) return undefined;
    const replayLsn = formatLsn(lag.replay);
    const primaryLsn = formatLsn(lag.primary);
    const retry = retryOnPrimary(router, f, 'schema-lag', `${f.node.name} answered ${code} at ${replayLsn}, behind the primary at ${primaryLsn}`, { replayLsn, primaryLsn });
    if (retry === undefined) return undefined;
    options.count();
    options.emit(retry.event);
    return retry.decision;
  };
}

// The replica's and the primary's positions when the replica is known to be behind.
function behind(positions: SchemaLagRetryOptions['positions'], node: Node): { replay: bigint; primary: bigint } | undefined {
  const replay = positions.replayed(node);
  const primary = positions.primaryPosition;
  return replay !== undefined && primary !== undefined && replay < primary ? { replay, primary } : undefined;
}
