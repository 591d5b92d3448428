import { checkConnectionKeys, rejectUnknownKeys, type Exact, type ExactKeys, type PgConnectionOptions } from '../config-keys';
import { configError } from '../errors';
import type { CacheStore } from './cache-store';

/** Which reads the cache considers: only opted-in ones, or every cacheable replica read. */
export type CacheStrategy = 'explicit' | 'all';

/** Where invalidations go: this instance only, or every instance listening on the primary. */
export type CacheInvalidation = 'local' | 'notify';

/**
 * The `cache` section of a splitKnex config. The cache is off unless this section is present.
 *
 * @example
 * splitKnex({
 *   client: 'pg', connection: primaryUrl, replicas: [replicaUrl],
 *   cache: { max: 5000, ttlMs: 30_000, strategy: 'explicit', invalidation: 'notify' },
 * });
 * await db('plans').where({ active: true }).cache(); // may be answered from memory next time
 */
export interface CacheConfig {
  /**
   * Most entries the default in-memory store keeps (least recently used go first).
   * Required unless `store` is given.
   */
  max?: number;
  /** Bound on the summed (estimated) size of the in-memory store's entries, in bytes. */
  maxBytes?: number;
  /**
   * How long an entry may be served, in ms: the bound on staleness for writes the cache cannot
   * see (other applications, `psql`, instances without `notify`). Required.
   */
  ttlMs: number;
  /** `'explicit'` (default): only `.cache()` reads. `'all'`: every cacheable read, `.noCache()` opts out. */
  strategy?: CacheStrategy;
  /** Results estimated bigger than this are not stored (default 1 MiB). */
  maxResultBytes?: number;
  /**
   * Part of every key: a tenant id, a role, anything row-level security or `SET ROLE` depends
   * on. A function is called per query, in the query's async context; when it returns
   * `undefined` (or throws) the read is not cached.
   */
  scope?: string | (() => string | undefined);
  /** `'local'` (default) or `'notify'`: publish invalidations with NOTIFY and listen for others'. */
  invalidation?: CacheInvalidation;
  /** The NOTIFY channel (default `split_knex_cache`). */
  channel?: string;
  /**
   * Where the LISTEN connection goes (a URL or pg connection object; default: the primary's
   * connection). Set it when the primary is reached through PgBouncer in transaction mode,
   * where LISTEN does not work: point it at the primary directly (or a session-mode pool).
   */
  listenConnection?: string | PgConnectionOptions;
  /** Where entries live; default a {@link MemoryCacheStore} built from `max` / `maxBytes`. */
  store?: CacheStore;
  /**
   * Store a replica's result only when that replica has replayed the last invalidating write of
   * the read's tables (default true). Turn off only where replicas report no replay position.
   */
  lagGuard?: boolean;
  /**
   * A write to a table with user triggers or rules clears the whole cache, since a trigger may
   * write anywhere (default). `true` invalidates only the written table (and its cascades):
   * set it when your triggers only touch the row being written (e.g. `updated_at`).
   */
  trustTriggers?: boolean;
  /**
   * How often the relation catalog (views, partitions, foreign-key cascades, triggers) is
   * reloaded to notice DDL run by other clients, in ms (default 60 000; 0 = only after DDL
   * seen by this instance). A changed catalog clears the cache.
   */
  schemaRefreshMs?: number;
}

/** The validated `cache` section. @internal */
export interface NormalizedCacheConfig {
  max: number;
  maxBytes: number | undefined;
  ttlMs: number;
  strategy: CacheStrategy;
  maxResultBytes: number;
  scope: string | (() => string | undefined) | undefined;
  invalidation: CacheInvalidation;
  channel: string;
  listenConnection: string | Record<string, unknown> | undefined;
  store: CacheStore | undefined;
  lagGuard: boolean;
  trustTriggers: boolean;
  schemaRefreshMs: number;
}

const KEYS = [
  'max', 'maxBytes', 'ttlMs', 'strategy', 'maxResultBytes', 'scope', 'invalidation', 'channel', 'listenConnection', 'store',
  'lagGuard', 'trustTriggers', 'schemaRefreshMs',
] as const;
// Compiles only while KEYS names exactly the keys of CacheConfig.
type CacheKeysExact = Exact<ExactKeys<CacheConfig, typeof KEYS>>;
const STORE_METHODS = ['get', 'set', 'delete', 'clearTags', 'clear'] as const;
const DEFAULT_MAX_RESULT_BYTES = 1024 * 1024;

/**
 * Validates the `cache` section eagerly; `undefined` when the cache is off.
 *
 * @example
 * normalizeCacheConfig({ max: 100, ttlMs: 1000 }).strategy; // 'explicit'
 * normalizeCacheConfig({ max: -1, ttlMs: 1000 });           // throws ESPLIT_CONFIG naming cache.max
 */
export function normalizeCacheConfig(value: unknown): NormalizedCacheConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError('cache', value, 'must be an object like { max, ttlMs, strategy }');
  }
  const c = value as Record<string, unknown>;
  rejectUnknownKeys('cache', c, KEYS, 'a cache option');
  const store = c.store === undefined ? undefined : validStore(c.store);
  const max = c.max === undefined && store !== undefined ? 0 : positiveInteger('cache.max', c.max);
  if (c.ttlMs === undefined) throw configError('cache.ttlMs', undefined, 'is required: the longest an entry may be served, in ms');
  const ttlMs = positiveInteger('cache.ttlMs', c.ttlMs);
  const maxBytes = c.maxBytes === undefined ? undefined : positiveInteger('cache.maxBytes', c.maxBytes);
  const maxResultBytes = c.maxResultBytes === undefined
    ? Math.min(DEFAULT_MAX_RESULT_BYTES, maxBytes ?? Infinity)
    : positiveInteger('cache.maxResultBytes', c.maxResultBytes);
  if (maxBytes !== undefined && maxResultBytes > maxBytes) {
    throw configError('cache.maxResultBytes', maxResultBytes, `must not exceed cache.maxBytes (${maxBytes})`);
  }
  const strategy = c.strategy ?? 'explicit';
  if (strategy !== 'explicit' && strategy !== 'all') throw configError('cache.strategy', strategy, "must be 'explicit' or 'all'");
  const scope = c.scope;
  if (scope !== undefined && typeof scope !== 'string' && typeof scope !== 'function') {
    throw configError('cache.scope', scope, 'must be a string or a function returning a string (e.g. the tenant id)');
  }
  const invalidation = c.invalidation ?? 'local';
  if (invalidation !== 'local' && invalidation !== 'notify') throw configError('cache.invalidation', invalidation, "must be 'local' or 'notify'");
  const channel = c.channel ?? 'split_knex_cache';
  // Quoted as an identifier in LISTEN: keep it to a plain name so no quoting surprises.
  if (typeof channel !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(channel)) {
    throw configError('cache.channel', channel, 'must be an identifier of letters, digits and _ (at most 63 characters)');
  }
  const listen = c.listenConnection;
  if (listen !== undefined && typeof listen !== 'string' && (listen === null || typeof listen !== 'object' || Array.isArray(listen))) {
    throw configError('cache.listenConnection', listen, 'must be a postgres:// URL or a pg connection object');
  }
  if (typeof listen === 'object') checkConnectionKeys('cache.listenConnection', listen);
  return {
    max, maxBytes, ttlMs, strategy, maxResultBytes,
    scope: scope as NormalizedCacheConfig['scope'],
    invalidation, channel, listenConnection: listen as NormalizedCacheConfig['listenConnection'], store,
    lagGuard: bool('cache.lagGuard', c.lagGuard, true),
    trustTriggers: bool('cache.trustTriggers', c.trustTriggers, false),
    schemaRefreshMs: c.schemaRefreshMs === undefined ? 60_000 : nonNegativeInteger('cache.schemaRefreshMs', c.schemaRefreshMs),
  };
}

function validStore(store: unknown): CacheStore {
  if (store === null || typeof store !== 'object') throw configError('cache.store', store, 'must be a CacheStore object (get, set, delete, clearTags, clear)');
  for (const m of STORE_METHODS) {
    if (typeof (store as Record<string, unknown>)[m] !== 'function') {
      throw configError('cache.store', store, `must implement CacheStore: method ${m}() is missing`);
    }
  }
  return store as CacheStore;
}

function positiveInteger(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw configError(key, v, 'must be a positive integer');
  return v;
}

function nonNegativeInteger(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw configError(key, v, 'must be a nonnegative integer');
  return v;
}

function bool(key: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw configError(key, v, 'must be a boolean');
  return v;
}
