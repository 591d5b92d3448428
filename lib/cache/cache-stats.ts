/**
 * The `cache` section of `db.stats()`.
 *
 * @example
 * const { hits, misses, invalidations } = db.stats().cache as CacheStats;
 */
export interface CacheStats {
  /** Reads answered from the cache. */
  hits: number;
  /** Cacheable reads the cache did not have (they ran on a replica). */
  misses: number;
  /** Results stored. */
  stores: number;
  /** Reads the cache would not consider (primary routing, hints, volatile functions, …). */
  skipped: number;
  /** Entries and estimated bytes held now (`null` when the store cannot tell cheaply). */
  entries: number | null;
  bytes: number | null;
  invalidations: {
    /** Invalidations from writes through this instance (and `invalidateCache()`). */
    local: number;
    /** Invalidations received from other instances on the NOTIFY channel. */
    remote: number;
    /** Of all of the above, those that cleared everything. */
    clears: number;
  };
  /** Results not stored because an invalidation happened while the read ran (stale-put rejections). */
  staleRejections: number;
  /** Results not stored because their replica had not yet replayed the last invalidating write. */
  lagRejections: number;
  /** Results not stored because a node failed meanwhile (the result may come from a retry elsewhere). */
  retryRejections: number;
  /** Results not stored because they were bigger than `maxResultBytes` (or not copyable). */
  tooLarge: number;
  /** Replay positions asked of replicas (only when a result is to be stored and the replica's last known position is behind). */
  replayPolls: number;
  /** Store operations that failed (e.g. Redis unreachable); the reads ran uncached. */
  storeErrors: number;
  /** The NOTIFY listener, with `invalidation: 'notify'`. */
  listener: { connected: boolean; reconnects: number } | null;
  /** Relations known from the primary's catalog, and how often it was loaded. */
  catalog: { relations: number; loads: number; ready: boolean };
}

/** The counters behind {@link CacheStats}. @internal */
export class CacheCounters {
  hits = 0;
  misses = 0;
  stores = 0;
  skipped = 0;
  staleRejections = 0;
  lagRejections = 0;
  retryRejections = 0;
  tooLarge = 0;
  storeErrors = 0;
  local = 0;
  remote = 0;
  clears = 0;
}
