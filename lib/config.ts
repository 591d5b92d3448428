import type { Knex } from 'knex';
import { configError } from './errors';
import { normalizeClock, type Clock, type NormalizedClock } from './clock';
import { checkConnectionKeys, closestKey, KNEX_KEYS, PG_CONNECTION_KEYS, rejectUnknownKeys, type Exact, type PgConnectionOptions } from './config-keys';
import type { ReplicaSelectorFn } from './route/replica-selector';
import { connectionLabel } from './route/connection-label';
import {
  normalizeConsistencyConfig, type ConsistencyOptions, type ConsistencyScopeMode, type LagConfig, type StickyConfig,
} from './consistency/consistency-config';
import { normalizeCatalogConfig, type CatalogConfig, type NormalizedCatalogConfig } from './catalog/catalog-config';
import { normalizeHealthConfig, type HealthConfig, type NormalizedHealthConfig } from './health/health-config';
import { normalizeCacheConfig, type CacheConfig, type NormalizedCacheConfig } from './cache/cache-config';
import { normalizeFailoverConfig, type FailoverConfig, type NormalizedFailoverConfig } from './health/failover-config';
import { normalizeDiscoverConfig, type DiscoverConfig, type NormalizedDiscoverConfig } from './topology/discover-config';

export { checkConnectionKeys, type PgConnectionOptions } from './config-keys';

/** A knex connection for one node: a URL, a connection object, or a provider function. */
export type NodeConnection = string | Knex.StaticConnectionConfig | Knex.ConnectionConfigProvider;

/** A replica written in full, with its own name, weight and pool. */
export interface ReplicaConfig {
  /** Shown in events, errors and `stats()`; defaults to `host:port`. */
  name?: string;
  connection: NodeConnection;
  /** Relative share of reads (default 1). A weight of 0 takes reads only when named. */
  weight?: number;
  /** Pool settings for this node, merged over the top-level `pool`. */
  pool?: Knex.PoolConfig;
}

/**
 * A replica given as a bare pg connection object: it may not hold a replica-entry key
 * (`name`, `connection`, `weight`, `pool`), so a typo like `{ name, conection }` cannot pass for one.
 *
 * @example
 * const r: BareReplicaConnection = { host: 'r1', port: 5433, user: 'app', database: 'app' };
 */
export type BareReplicaConnection = PgConnectionOptions & { [K in keyof ReplicaConfig]?: never };

/**
 * One element of `replicas`: a URL, a full entry, a bare pg connection object or a provider.
 *
 * @example
 * const replicas: ReplicaEntry[] = ['postgres://r1/app', { name: 'eu', connection: 'postgres://r2/app', weight: 2 }];
 */
export type ReplicaEntry = string | ReplicaConfig | BareReplicaConnection | Knex.ConnectionConfigProvider;

/** How reads are spread over replicas. */
export type RoutingStrategy = 'round-robin' | 'random' | 'least-busy' | ReplicaSelectorFn;

/** The `routing` section. */
export interface RoutingConfig {
  /** Replica choice; default `'least-busy'` (fewest queries in flight per weight, ties weighted round-robin). Weights are honoured by every built-in strategy. */
  strategy?: RoutingStrategy;
  /**
   * What a read does when no replica is eligible (all down, all lagging):
   * `'primary'` (default) runs it on the primary; `'error'` fails fast with `ESPLIT_NO_REPLICA`.
   */
  fallback?: 'primary' | 'error';
  /** User functions known to be read-only: calls to them stay on replicas. */
  readOnlyFunctions?: string[];
  /** Bound of the classifier's memo of SQL texts (default 1000, 0 turns it off). */
  classifierCacheSize?: number;
  /** Retry a replica read refused with SQLSTATE 25006 once on the primary (default true). */
  retryMisroutes?: boolean;
  /**
   * The primary's weight in the read rotation, beside the replicas' weights (default 0: reads
   * go to replicas only). E.g. 1 with two replicas of weight 1 sends a third of the reads that
   * could go to a replica to the primary: for a primary with CPU to spare. Hinted and bound reads
   * never take the primary this way.
   */
  primaryWeight?: number;
  /**
   * Refuse (`ESPLIT_OUTSIDE_TRANSACTION`) a read that runs outside any transaction while the same
   * async context holds an open transaction of this instance: the usual sign of a forgotten
   * `.transacting(trx)`. Default false: such a read runs (on a replica) and `split-knex:route`
   * debug output says so. Turn it on in tests and development; a read that must run outside on
   * purpose names its target (`queryContext({ splitKnex: { target } })`).
   */
  strictTransactions?: boolean;
}

/**
 * The `consistency` section: another spelling of `sticky.scope`, kept for existing configs.
 *
 * @example
 * splitKnex({ ...config, consistency: { scope: 'none' } });
 */
export interface ConsistencySectionConfig {
  scope?: ConsistencyScopeMode;
}

/**
 * Everything `splitKnex()` takes: a knexfile entry plus split-knex's own sections. Closed:
 * a misspelt key fails to compile, and at run time throws `ESPLIT_CONFIG` naming it.
 *
 * @example
 * splitKnex({ client: 'pg', connection: primaryUrl, replicas: [replicaUrl], sticky: { mode: 'lsn' } });
 */
export interface SplitKnexConfig extends Knex.Config {
  /** Replica connections: a list, or one comma-separated string of URLs. */
  replicas?: string | ReplicaEntry[];
  routing?: RoutingConfig;
  /** Catalog-aware routing (docs/catalog.md): `'auto'` (default with replicas), `false`, or `{ refreshMs?, searchPath? }`. */
  catalog?: CatalogConfig;
  /** Read-your-writes (docs/consistency.md). */
  sticky?: StickyConfig;
  /** Replica lag polling and limits (docs/consistency.md). */
  lag?: LagConfig;
  /** Alias of `sticky.scope`. */
  consistency?: ConsistencySectionConfig;
  /** Failure handling (docs/failure-handling.md): probes, ejection, retries; `false` turns the probe off. */
  health?: HealthConfig | boolean;
  /**
   * Follow a failover: writes go to the node that answers as primary (docs/failure-handling.md).
   * Default: true with `discover`, else false.
   */
  discoverRoles?: boolean;
  /** What statements for the writer do while no writable primary is known (docs/failure-handling.md). */
  failover?: FailoverConfig;
  /** Follow the cluster's shape at run time: Patroni, pg_stat_replication or a callback (docs/topology-discovery.md). */
  discover?: DiscoverConfig;
  /** Replica result cache (docs/caching.md); off unless present. */
  cache?: CacheConfig;
  /** Time and timers of every subsystem (tests inject a fake one); default the system clock. */
  clock?: Clock;
}

/** A node after validation. */
export interface NodeSpec {
  name: string;
  role: 'primary' | 'replica';
  connection: unknown;
  weight: number;
  pool: Knex.PoolConfig | undefined;
}

/** The validated, defaulted configuration. */
export interface NormalizedConfig {
  /** What each node's knex client is built from (our keys removed). */
  knexConfig: Knex.Config;
  primary: NodeSpec;
  replicas: NodeSpec[];
  routing: Required<Omit<RoutingConfig, 'readOnlyFunctions'>> & { readOnlyFunctions: string[] };
  /** The one validated clock, for every subsystem. */
  clock: NormalizedClock;
  /** Every section validated eagerly, so a typo anywhere fails before any pool exists. */
  health: NormalizedHealthConfig;
  failover: NormalizedFailoverConfig;
  /** `undefined`: no topology discovery. */
  discover: NormalizedDiscoverConfig | undefined;
  consistency: ConsistencyOptions;
  catalog: NormalizedCatalogConfig;
  /** `undefined`: the cache is off. */
  cache: NormalizedCacheConfig | undefined;
  /** The raw config, for subsystems that validate their own sections. */
  raw: Readonly<SplitKnexConfig>;
}

const PG_CLIENTS = new Set(['pg', 'postgres', 'postgresql']);
/** Keys split-knex owns; removed before the config reaches knex. */
export const SPLIT_KEYS = [
  'replicas', 'routing', 'health', 'discoverRoles', 'sticky', 'consistency', 'lag', 'cache', 'catalog', 'clock', 'failover', 'discover',
] as const;
const TOP_KEYS: readonly string[] = [...SPLIT_KEYS, ...KNEX_KEYS];
// Compiles only while every declared key has a runtime entry: a key added to the type must
// be added to SPLIT_KEYS (or knex's list), or it would be rejected at run time.
type TopKeysCovered = Exact<Exclude<keyof SplitKnexConfig, (typeof SPLIT_KEYS)[number] | (typeof KNEX_KEYS)[number]> extends never ? true : false>;
const ROUTING_KEYS = ['strategy', 'fallback', 'readOnlyFunctions', 'classifierCacheSize', 'retryMisroutes', 'primaryWeight', 'strictTransactions'] as const satisfies ReadonlyArray<keyof RoutingConfig>;
const REPLICA_KEYS = ['name', 'connection', 'weight', 'pool'] as const satisfies ReadonlyArray<keyof ReplicaConfig>;
// Names from other libraries' replica options, too far from ours for the edit distance.
const TYPOS: Record<string, string> = { readReplicas: 'replicas', read: 'replicas', routes: 'routing', route: 'routing' };
const REPLICA_FORMS = 'must be a postgres:// URL, a pg connection object or { connection, name?, weight?, pool? }';

/**
 * Validates a splitKnex config eagerly and fills in defaults. Every key must be knex's or
 * split-knex's: anything else throws `ESPLIT_CONFIG` naming it (with the key it is closest to).
 *
 * @example
 * const n = normalizeConfig({ client: 'pg', connection: url, replicas: 'postgres://r1/app,postgres://r2/app' });
 * n.replicas.length // 2
 * normalizeConfig({ client: 'pg', connection: url, stikcy: {} } as never) // throws: "stikcy" … did you mean "sticky"?
 */
export function normalizeConfig(config: SplitKnexConfig): NormalizedConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw configError('(config)', config, 'must be a knex config object');
  }
  const client = config.client ?? config.dialect;
  if (typeof client !== 'string' || !PG_CLIENTS.has(client)) {
    throw configError('client', client, "must be 'pg' (or 'postgres'/'postgresql'): split-knex routes PostgreSQL streaming replication only");
  }
  rejectUnknownTopKeys(config);
  if (config.connection === undefined && config.connectionPool === undefined) {
    throw configError('connection', undefined, 'is required (the primary)');
  }
  if (isPlainObject(config.connection)) checkConnectionKeys('connection', config.connection);
  const clock = normalizeClock(config.clock);
  const knexConfig: Record<string, unknown> = { ...config, client: 'pg' };
  for (const key of SPLIT_KEYS) delete knexConfig[key];

  const primary: NodeSpec = {
    name: 'primary',
    role: 'primary',
    connection: config.connection,
    weight: 0,
    pool: config.pool,
  };
  const replicas = normalizeReplicas(config.replicas, config.pool);
  const names = new Set<string>(['primary']);
  for (const r of replicas) {
    if (names.has(r.name)) throw configError('replicas[].name', r.name, 'must be unique (and not "primary")');
    names.add(r.name);
  }
  return {
    knexConfig: knexConfig as Knex.Config, primary, replicas, routing: normalizeRouting(config.routing), clock,
    health: normalizeHealthConfig(config),
    failover: normalizeFailoverConfig(config),
    discover: normalizeDiscoverConfig(config),
    consistency: normalizeConsistencyConfig(config as Readonly<Record<string, unknown>>, clock),
    catalog: normalizeCatalogConfig(config.catalog, replicas.length > 0),
    cache: normalizeCacheConfig(config.cache),
    raw: config,
  };
}

function rejectUnknownTopKeys(config: SplitKnexConfig): void {
  for (const [key, value] of Object.entries(config)) {
    if (TOP_KEYS.includes(key)) continue;
    const meant = TYPOS[key] ?? closestKey(key, TOP_KEYS);
    const hint = meant === undefined ? '' : ` (did you mean "${meant}"?)`;
    throw configError(key, value, `is not a knex or split-knex option${hint}`);
  }
}

function normalizeReplicas(value: SplitKnexConfig['replicas'], basePool: Knex.PoolConfig | undefined): NodeSpec[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string' && !Array.isArray(value)) {
    throw configError('replicas', value, 'must be an array or a comma-separated string of URLs');
  }
  const list: unknown[] = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : value;
  return list.map((entry, i) => normalizeReplica(entry, i, basePool));
}

function normalizeReplica(entry: unknown, i: number, basePool: Knex.PoolConfig | undefined): NodeSpec {
  const key = `replicas[${i}]`;
  if (typeof entry === 'string') {
    if (!/^postgres(ql)?:\/\//i.test(entry) && !entry.includes('=')) throw configError(key, entry, REPLICA_FORMS);
    return { name: connectionLabel(entry, i), role: 'replica', connection: entry, weight: 1, pool: basePool };
  }
  if (typeof entry === 'function') {
    return { name: `replica${i + 1}`, role: 'replica', connection: entry, weight: 1, pool: basePool };
  }
  if (!isPlainObject(entry)) throw configError(key, entry, REPLICA_FORMS);
  // Any replica-entry key makes it an entry; else it is a bare connection object. Either
  // way every key must be known, so `{ name, conection }` fails here, not at connect time.
  if (!REPLICA_KEYS.some((k) => k in entry)) {
    checkConnectionKeys(key, entry);
    return { name: connectionLabel(entry, i), role: 'replica', connection: entry, weight: 1, pool: basePool };
  }
  for (const k of Object.keys(entry)) {
    if ((PG_CONNECTION_KEYS as readonly string[]).includes(k) && !(REPLICA_KEYS as readonly string[]).includes(k)) {
      throw configError(`${key}.${k}`, entry[k], 'is a connection setting: put it inside `connection` of this replica entry { name?, connection, weight?, pool? }');
    }
  }
  rejectUnknownKeys(key, entry, REPLICA_KEYS, 'a replica option');
  const conn = entry.connection;
  if (conn === undefined) throw configError(`${key}.connection`, conn, 'is required in a replica entry { name?, connection, weight?, pool? }');
  if (conn === null || (typeof conn !== 'string' && typeof conn !== 'object' && typeof conn !== 'function') || Array.isArray(conn)) {
    throw configError(`${key}.connection`, conn, 'must be a URL, a connection object or a provider function');
  }
  if (isPlainObject(conn)) checkConnectionKeys(`${key}.connection`, conn);
  const name = entry.name === undefined ? connectionLabel(conn, i) : entry.name;
  if (typeof name !== 'string' || name.length === 0) throw configError(`${key}.name`, name, 'must be a non-empty string');
  const weight = entry.weight === undefined ? 1 : entry.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw configError(`${key}.weight`, weight, 'must be a finite number >= 0');
  }
  if (entry.pool !== undefined && !isPlainObject(entry.pool)) {
    throw configError(`${key}.pool`, entry.pool, 'must be a knex pool config object');
  }
  const pool = entry.pool === undefined ? basePool : { ...basePool, ...(entry.pool as Knex.PoolConfig) };
  return { name, role: 'replica', connection: conn, weight, pool };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function normalizeRouting(value: unknown): NormalizedConfig['routing'] {
  const out: NormalizedConfig['routing'] = {
    strategy: 'least-busy', fallback: 'primary', readOnlyFunctions: [], classifierCacheSize: 1000, retryMisroutes: true, primaryWeight: 0, strictTransactions: false,
  };
  if (value === undefined) return out;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configError('routing', value, 'must be an object');
  const r = value as Record<string, unknown>;
  rejectUnknownKeys('routing', r, ROUTING_KEYS, 'a routing option');
  if (r.strategy !== undefined) {
    if (typeof r.strategy !== 'function' && !['round-robin', 'random', 'least-busy'].includes(r.strategy as string)) {
      throw configError('routing.strategy', r.strategy, "must be 'round-robin', 'random', 'least-busy' or a function (replicas, statement) => replica");
    }
    out.strategy = r.strategy as RoutingStrategy;
  }
  if (r.fallback !== undefined) {
    if (r.fallback !== 'primary' && r.fallback !== 'error') throw configError('routing.fallback', r.fallback, "must be 'primary' or 'error'");
    out.fallback = r.fallback;
  }
  if (r.readOnlyFunctions !== undefined) {
    if (!Array.isArray(r.readOnlyFunctions) || !r.readOnlyFunctions.every((f) => typeof f === 'string' && f.length > 0)) {
      throw configError('routing.readOnlyFunctions', r.readOnlyFunctions, 'must be an array of function names');
    }
    out.readOnlyFunctions = r.readOnlyFunctions as string[];
  }
  if (r.classifierCacheSize !== undefined) {
    const n = r.classifierCacheSize;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw configError('routing.classifierCacheSize', n, 'must be a nonnegative integer');
    out.classifierCacheSize = n;
  }
  if (r.retryMisroutes !== undefined) {
    if (typeof r.retryMisroutes !== 'boolean') throw configError('routing.retryMisroutes', r.retryMisroutes, 'must be a boolean');
    out.retryMisroutes = r.retryMisroutes;
  }
  if (r.primaryWeight !== undefined) {
    const w = r.primaryWeight;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw configError('routing.primaryWeight', w, 'must be a finite number >= 0');
    out.primaryWeight = w;
  }
  if (r.strictTransactions !== undefined) {
    if (typeof r.strictTransactions !== 'boolean') throw configError('routing.strictTransactions', r.strictTransactions, 'must be a boolean');
    out.strictTransactions = r.strictTransactions;
  }
  return out;
}
