import { isTempRelationMiss } from '../classify';
import type { RetryPolicy } from '../subsystem';
import { isRetryableReplicaRead, retryOnPrimary, type ReadRetryEvent } from './read-retry';
import type { Router } from './router';

/** Options of {@link tempRelationRetry}. */
export interface TempRelationRetryOptions {
  router: Router;
  /** On only while the catalog is off (with it, reads of temporary relations go to the primary). */
  enabled: boolean;
  /** Told of each retry: counts it and emits `read-retry`. */
  note: (event: ReadRetryEvent) => void;
}

/**
 * The temporary-relation guard (a core retry policy, after the misroute guard): a standby
 * has no temporary tables, so a read of one that went to a replica fails there with 42P01
 * while the primary's session may have it. With `catalog: false` nothing else can tell a
 * temporary table from a regular one: such a read — a 42P01 about a relation the SQL names
 * unqualified or in `pg_temp` ({@link isTempRelationMiss}) — runs once more on the primary.
 * Never for writes, streams, bound builders or transactions (see `isRetryableReplicaRead`).
 *
 * @example
 * coreRetries: [misrouteRetry(…), tempRelationRetry({ router, enabled: !n.catalog.enabled, note: (e) => pipeline.emit('read-retry', e) })]
 */
export function tempRelationRetry(options: TempRelationRetryOptions): RetryPolicy {
  const { router, enabled, note } = options;
  return (f) => {
    if (!enabled || !isRetryableReplicaRead(f) || !isTempRelationMiss(f.err, f.statement.sql)) return undefined;
    const retry = retryOnPrimary(router, f, 'temp-relation', `${f.node.name} has no temporary relations`);
    if (retry === undefined) return undefined;
    // Reads sent to the primary are counted by cause in `stats().primaryReads`.
    router.primaryReads.set('temp-relation', (router.primaryReads.get('temp-relation') ?? 0) + 1);
    note(retry.event);
    return retry.decision;
  };
}
